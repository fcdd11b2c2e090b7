package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
)

// The browser's session (issue 18): the UI signs in once per browser, not once per tab, and its
// token is never readable by scripts. Sign-in sets the token as an HttpOnly, SameSite=Strict
// cookie beside the JSON answer (integrations keep using the bearer token); requests without
// an Authorization header are authenticated by that cookie. Against cross-site request forgery
// a cookie-authenticated request that changes state must carry the X-CSRF-Token header equal
// to the redress_csrf cookie (double submit): a page of another site can neither read the
// cookie nor set the header on a same-origin request, and SameSite=Strict keeps the cookies off
// cross-site requests in the first place.
const (
	sessionCookie = "redress_session"
	csrfCookie    = "redress_csrf"
	csrfHeader    = "X-CSRF-Token"
)

// setSessionCookies sets the session and CSRF cookies of a fresh sign-in, expiring with the token.
func setSessionCookies(c echo.Context, token string, expires time.Time) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("csrf token: %w", err)
	}
	secure := c.Scheme() == "https"
	// Secure follows the scheme so that redress dev over plain http on loopback can sign in;
	// behind TLS (production) both cookies are Secure.
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: expires, //nolint:gosec // G124: Secure follows the scheme (see above)
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	// Readable by the UI's scripts (it copies it into the header), useless to anyone else.
	// Not HttpOnly: the double-submit token must be readable by that script.
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: hex.EncodeToString(b), Path: "/", Expires: expires, //nolint:gosec // G124: readable by design, Secure follows the scheme
		Secure: secure, SameSite: http.SameSiteStrictMode})
	return nil
}

// clearSessionCookies ends the browser's session.
func clearSessionCookies(c echo.Context) {
	secure := c.Scheme() == "https"
	for _, name := range []string{sessionCookie, csrfCookie} {
		c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0), //nolint:gosec // G124: an expiring cookie, Secure as when it was set
			HttpOnly: name == sessionCookie, Secure: secure, SameSite: http.SameSiteStrictMode})
	}
}

// sessionToken answers the session cookie's token, or "" without one.
func sessionToken(c echo.Context) string {
	ck, err := c.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return ck.Value
}

// checkCSRF refuses a state-changing, cookie-authenticated request whose X-CSRF-Token header
// does not match the CSRF cookie.
func checkCSRF(c echo.Context) error {
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	ck, err := c.Cookie(csrfCookie)
	got := c.Request().Header.Get(csrfHeader)
	if err != nil || ck.Value == "" || got == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(got)) != 1 {
		return apperr.Forbidden("csrf_failed", "a signed-in browser request that changes data must carry the %s header (the %s cookie)", csrfHeader, csrfCookie)
	}
	return nil
}

// logout answers POST /api/v1/auth/logout: the browser's session cookies are cleared (a bearer
// token simply expires; there is nothing to revoke).
func (s *Server) logout(c echo.Context) error {
	clearSessionCookies(c)
	return c.NoContent(http.StatusNoContent)
}
