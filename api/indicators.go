package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/scheme/indicators"
	"redress/store"
)

// indicatorsAnswer is the indicator catalogue that applies to a unit: public, because the
// rating page and the channels need it to build their forms.
type indicatorsAnswer struct {
	// Unit is the unit asked about ("" for the default).
	Unit string `json:"unit"`
	// Source is the code of the unit whose catalogue applies; null for the default catalogue.
	Source     *string                `json:"source"`
	Indicators []indicators.Indicator `json:"indicators"`
	// Offered are the indicators a rating form offers besides the overall level.
	Offered []indicators.Indicator `json:"offered"`
}

// getIndicators answers GET /api/v1/indicators?unit=CODE.
func (s *Server) getIndicators(c echo.Context) error {
	code := c.QueryParam("unit")
	path := ""
	if code != "" {
		u, err := s.units.Known(c.Request().Context(), code)
		if errors.Is(err, store.ErrNotFound) {
			return apperr.Invalid("unit", "unknown_unit", "unit %q is not known", code)
		}
		if err != nil {
			return err
		}
		path = u.Path
	}
	cat, err := s.deps.Intake.IndicatorSource().For(c.Request().Context(), path)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, catalogueAnswer(code, cat))
}

func catalogueAnswer(unit string, cat indicators.Catalogue) indicatorsAnswer {
	a := indicatorsAnswer{Unit: unit, Indicators: cat.List(), Offered: cat.Offered()}
	if cat.Unit != "" {
		src := cat.Unit
		a.Source = &src
	}
	if a.Offered == nil {
		a.Offered = []indicators.Indicator{}
	}
	return a
}
