package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	echomiddleware "github.com/oapi-codegen/echo-middleware"

	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// authenticate runs for every operation whose security in openapi.yaml asks for the
// bearer token, so the contract alone decides which routes need a tenant. It verifies the
// token and puts the tenant on the request's context for the handlers.
func (s *Server) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	c := echomiddleware.GetEchoContext(ctx)
	if c == nil {
		return errs.New(errs.CodeInternal, "no echo context in the request validator")
	}
	token, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
	if in.SecuritySchemeName == "metricsToken" {
		return s.authenticateScrape(token)
	}
	if !ok {
		return unauthorized(errs.New(errs.CodeUnauthorized, "Send a Clerk session token as 'Authorization: Bearer <token>'."))
	}
	id, err := s.verifier.Verify(c.Request().Context(), token)
	if err != nil {
		return unauthorized(err)
	}
	c.SetRequest(c.Request().WithContext(tenant.WithID(c.Request().Context(), id)))
	return nil
}

// authenticateScrape lets the monitoring read /metrics with METRICS_TOKEN. Without a
// configured token the metrics are not served at all: they tell an outsider which routes
// exist and how busy the service is.
func (s *Server) authenticateScrape(token string) error {
	if s.metricsToken == "" {
		return &echo.HTTPError{Code: http.StatusNotFound, Internal: errs.New(errs.CodeNotFound, "Metrics are not served here: the server has no METRICS_TOKEN.")}
	}
	if !sameSecret(token, s.metricsToken) {
		return unauthorized(errs.New(errs.CodeUnauthorized, "Send the server's METRICS_TOKEN as 'Authorization: Bearer <token>'."))
	}
	return nil
}

// unauthorized wraps err so the validator hands it on unchanged; handleError reads the
// *errs.Error inside.
func unauthorized(err error) *echo.HTTPError {
	status := http.StatusUnauthorized
	if errs.Is(err, errs.Unavailable) {
		status = http.StatusServiceUnavailable
	}
	return &echo.HTTPError{Code: status, Message: http.StatusText(status), Internal: err}
}

func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// tenantOf returns the tenant authenticate put on the context. A handler reached without
// one is a wiring bug, and answers 500 rather than serving anyone's data.
func tenantOf(ctx context.Context) (tenant.ID, error) {
	id, ok := tenant.FromContext(ctx)
	if !ok {
		return "", errs.New(errs.CodeInternal, "handler reached without a tenant")
	}
	return id, nil
}
