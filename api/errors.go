package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"redress/apperr"
)

// errorBody is API.md's error shape.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// statusCodes names the errors Echo itself raises (routing, body limit, binding).
var statusCodes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_content_type",
	http.StatusUnprocessableEntity:   "invalid",
	http.StatusTooManyRequests:       "too_many_requests",
	http.StatusServiceUnavailable:    "unavailable",
}

// handleError writes every error in API.md's shape. Internal errors are logged with the
// request id and answered with a generic message: their text never reaches the client.
func handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := http.StatusInternalServerError, errorDetail{Code: "internal", Message: "internal error; quote the request id to support"}
	var he *echo.HTTPError
	if ae, ok := apperr.As(err); ok {
		status, body = ae.Status, errorDetail{Code: ae.Code, Message: ae.Message, Field: ae.Field}
	} else if errors.As(err, &he) && he.Code < 500 {
		status = he.Code
		body.Code = statusCodes[he.Code]
		if body.Code == "" {
			body.Code = strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_"))
		}
		body.Message = strings.ToLower(http.StatusText(he.Code))
		if he.Code == http.StatusRequestEntityTooLarge {
			body.Message = "request body is too large"
		}
	}
	if status >= 500 {
		slog.ErrorContext(c.Request().Context(), "request failed", "request_id", requestID(c), "path", c.Path(), "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, errorBody{Error: body})
}

// decode reads a JSON body strictly into v: JSON content type, no unknown fields, no trailing
// data, types as declared; each failure is a 400 or 422 naming the field where it can.
func decode(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != echo.MIMEApplicationJSON {
		return apperr.BadRequest("unsupported_content_type", "send the body as application/json")
	}
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return decodeError(err)
	}
	if err := checkJSONText(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return apperr.BadRequest("malformed_json", "the body holds more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return apperr.BadRequest("malformed_json", "the body holds data after the JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
		mb *http.MaxBytesError
	)
	var he *echo.HTTPError
	switch {
	case errors.As(err, &mb), errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge:
		// http.MaxBytesReader's error, or Echo's body limit on a body sent without a length.
		return &apperr.Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "request body is too large"}
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.BadRequest("malformed_json", "the body is not valid JSON")
	case errors.Is(err, io.EOF):
		return apperr.BadRequest("empty_body", "the body is empty")
	case errors.As(err, &te) && te.Field == "":
		// The body itself has the wrong type (an array, a string…): name the body.
		return apperr.Invalid("body", "invalid_type", "the body must be %s", jsonType(te.Type.Kind().String()))
	case errors.As(err, &te):
		return apperr.Invalid(te.Field, "invalid_type", "%s must be %s", te.Field, jsonType(te.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &apperr.Error{Status: http.StatusBadRequest, Code: "unknown_field", Message: fmt.Sprintf("unknown field %q", f), Field: f}
	case strings.Contains(err.Error(), "parsing time"):
		return apperr.Invalid("", "invalid_time", "times must be RFC 3339, e.g. 2026-05-01T09:30:00+08:00")
	}
	return apperr.BadRequest("malformed_json", "the body could not be read as JSON")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	default:
		return "a number"
	}
}
