package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/converter"

	"redress/apperr"
	"redress/payloadcodec"
)

// The Temporal remote codec endpoint (issue 16 finding 6). Workflow payloads are encrypted
// with the deployment's personal-data keys (package payloadcodec), so the Temporal web UI and
// CLI show ciphertext unless they are pointed here: `temporal workflow show --codec-endpoint
// {base}/api/v1/system/temporal-codec --codec-auth "Bearer <token>"`, or the UI's codec
// endpoint setting. Decoding reveals every unit's notes and feedback, which no unit-scoped
// role may read across units, so only sysadmins may call it (authz/default.csv); every call
// is in the audit log (who read which history's payloads is not, only that they decoded).

// codecBase is where the remote codec protocol's /encode and /decode are served.
const codecBase = "/api/v1/system/temporal-codec"

func (s *Server) routesTemporalCodec() {
	s.e.POST(codecBase+"/encode", s.temporalCodec)
	s.e.POST(codecBase+"/decode", s.temporalCodec)
}

// temporalCodec serves the SDK's codec handler (converter.NewPayloadCodecHTTPHandler: the
// protocol the UI and CLI speak) and turns its plain-text errors, which carry internal detail
// (key ids, protojson positions), into the API's error shape.
func (s *Server) temporalCodec(c echo.Context) error {
	if s.deps.PII == nil {
		return apperr.Unavailable("codec_not_configured", "this server holds no keys to encode or decode workflow payloads")
	}
	codec, err := payloadcodec.New(s.deps.PII)
	if err != nil {
		return err
	}
	rec := &capture{header: http.Header{}}
	converter.NewPayloadCodecHTTPHandler(codec).ServeHTTP(rec, c.Request())
	if rec.status != 0 && rec.status != http.StatusOK {
		slog.WarnContext(c.Request().Context(), "temporal codec refused payloads", "request_id", requestID(c), "status", rec.status, "err", strings.TrimSpace(rec.body.String()))
		return apperr.BadRequest("payloads_not_codable", "the payloads could not be encoded or decoded: a malformed body, or a payload sealed with a key this deployment does not hold")
	}
	c.Response().Header().Set("Cache-Control", "no-store") // decoded payloads are personal data
	return c.Blob(http.StatusOK, "application/json", rec.body.Bytes())
}

// capture records what an http.Handler writes, so that its answer can be checked before any
// of it reaches the client.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *capture) Header() http.Header { return r.header }
func (r *capture) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *capture) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// temporalUIOrigin tells whether origin is one of the configured Temporal web UIs
// (Deps.TemporalUIOrigins).
func (s *Server) temporalUIOrigin(origin string) bool {
	if origin == "" {
		return false
	}
	for _, o := range s.deps.TemporalUIOrigins {
		if strings.EqualFold(strings.TrimRight(o, "/"), origin) {
			return true
		}
	}
	return false
}

// codecFromTemporalUI tells whether a cookie-authenticated request is the Temporal web UI's
// call of the codec endpoint, which needs no CSRF header. The UI (configured with
// includeCredentials) sends the signed-in sysadmin's session cookie but cannot send redress's
// X-CSRF-Token header. That is safe without it: encode and decode change nothing (what a
// forged call could do is only read, which CORS grants to the configured origins alone), the
// browser sets Origin on every cross-origin request and no page's script can change it, so a
// page of any other origin, the same site's other ports included, still needs the header (and
// cannot read the answer), and SameSite=Strict keeps the cookie off other sites' requests.
func (s *Server) codecFromTemporalUI(c echo.Context) bool {
	r := c.Request()
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, codecBase+"/") &&
		s.temporalUIOrigin(r.Header.Get(echo.HeaderOrigin))
}

// codecCORS lets the Temporal web UI, a page of another origin, call the codec endpoint from
// the browser: for the configured origins only (Deps.TemporalUIOrigins), with credentials (the
// UI sends the sysadmin's session cookie, codecFromTemporalUI), answering the preflight before
// authentication (a preflight carries no token) and allowing the headers the UI sends (a bearer
// token when configured with passAccessToken, X-Namespace). Other paths and origins are
// untouched.
func (s *Server) codecCORS(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !strings.HasPrefix(r.URL.Path, codecBase+"/") {
			return next(c)
		}
		origin := r.Header.Get(echo.HeaderOrigin)
		if !s.temporalUIOrigin(origin) {
			return next(c)
		}
		h := c.Response().Header()
		h.Set(echo.HeaderAccessControlAllowOrigin, origin)
		h.Set(echo.HeaderAccessControlAllowCredentials, "true")
		h.Add(echo.HeaderVary, echo.HeaderOrigin)
		if r.Method == http.MethodOptions && r.Header.Get(echo.HeaderAccessControlRequestMethod) != "" {
			h.Set(echo.HeaderAccessControlAllowMethods, http.MethodPost)
			h.Set(echo.HeaderAccessControlAllowHeaders, "Authorization, Content-Type, X-Namespace")
			h.Set(echo.HeaderAccessControlMaxAge, "600")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}
