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

// authenticate runs for every operation whose security in openapi.yaml asks for a
// credential, so the contract alone decides which routes need a tenant. It verifies the
// session token, checks that the principal holds the permission the operation names
// (x-permission in openapi.yaml), and puts the principal on the request's context for the
// handlers.
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
	p, err := s.verifier.Verify(c.Request().Context(), token)
	if err != nil {
		return unauthorized(err)
	}
	need, _ := in.RequestValidationInput.Route.Operation.Extensions["x-permission"].(string)
	if need == "" {
		return errs.New(errs.CodeInternal, "operation "+in.RequestValidationInput.Route.Operation.OperationID+" names no x-permission")
	}
	if need != "any" && !p.Can(tenant.Permission(need)) {
		return refuse(errs.New(errs.CodeForbidden, "This needs the "+need+" permission, which your role in this clinic does not give; ask one of its admins."))
	}
	c.SetRequest(c.Request().WithContext(tenant.WithPrincipal(c.Request().Context(), p)))
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

// unauthorized is a failed authentication: a 401, or a 503 when the credential could not
// be checked now.
func unauthorized(err error) *echo.HTTPError { return refuse(err) }

// refuse wraps err so the validator hands it on unchanged (it passes on an *echo.HTTPError
// as it is); handleError reads the *errs.Error inside.
func refuse(err error) *echo.HTTPError {
	status := statusOf[errs.As(err).Kind]
	if status == http.StatusInternalServerError {
		status = http.StatusUnauthorized // a verifier failure is no 500 of the request's
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
	p, err := principalOf(ctx)
	return p.Tenant, err
}

// principalOf returns the principal authenticate put on the context.
func principalOf(ctx context.Context) (tenant.Principal, error) {
	p, ok := tenant.PrincipalFrom(ctx)
	if !ok {
		return p, errs.New(errs.CodeInternal, "handler reached without a tenant")
	}
	return p, nil
}
