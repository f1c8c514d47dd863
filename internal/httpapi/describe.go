package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/internal/errs"
)

// What a request that breaks the contract is told is said in the user's terms, from the
// contract itself: what the parameter or field must be, never the validator's Go types or
// regular expressions.

// describeRequestError says which parameter or body field broke the contract, and what it
// must be.
func describeRequestError(e *openapi3filter.RequestError) (*errs.Error, []api.FieldError) {
	if strings.HasPrefix(e.Reason, "header Content-Type has unexpected value") {
		return errs.New(errs.CodeUnsupportedMediaType, "Send the body as JSON, with Content-Type: application/json."), nil
	}
	field, message := "body", e.Reason
	var schemaErr *openapi3.SchemaError
	switch {
	case errors.As(e.Err, &schemaErr):
		if ptr := schemaErr.JSONPointer(); len(ptr) > 0 && e.Parameter == nil {
			field = strings.Join(ptr, ".")
		}
		message = schemaErr.Reason
		if described := describeSchema(schemaErr.Schema, schemaErr.SchemaField); described != "" {
			message = described
		}
	case e.Parameter != nil && e.Parameter.Schema != nil:
		message = describeSchema(e.Parameter.Schema.Value, "type")
	case message == "":
		message = "does not match the API reference"
	}
	if e.Parameter != nil {
		field = e.Parameter.Name
	}
	return errs.New(errs.CodeValidationFailed, "The request does not match the API contract: "+field+" "+message+"."),
		[]api.FieldError{{Field: field, Message: message}}
}

// describeSchema says what a value must be to satisfy schema, for the failed rule
// (format, type, enum, bounds); "" when the rule is one the validator's own reason says
// well (a missing or an unknown property).
func describeSchema(schema *openapi3.Schema, rule string) string {
	if schema == nil {
		return ""
	}
	switch rule {
	case "format", "type", "pattern", "enum", "minimum", "maximum", "minLength", "maxLength":
	default:
		return ""
	}
	switch {
	case schema.Format == "uuid":
		return "must be a UUID, such as 3fa85f64-5717-4562-b3fc-2c963f66afa6"
	case schema.Format == "date-time":
		return "must be an RFC 3339 date and time, such as 2026-12-01T09:00:00Z"
	case len(schema.Enum) > 0:
		var values []string
		for _, v := range schema.Enum {
			values = append(values, fmt.Sprint(v))
		}
		return "must be one of " + strings.Join(values, ", ")
	case schema.Type.Is("integer"):
		return "must be a whole number" + bounds(schema)
	case schema.Type.Is("boolean"):
		return "must be true or false"
	case schema.MaxLength != nil && rule == "maxLength":
		return fmt.Sprintf("must be at most %d characters", *schema.MaxLength)
	case schema.Pattern != "" && schema.Description != "":
		return "must be " + strings.TrimSuffix(strings.ToLower(schema.Description[:1])+schema.Description[1:], ".")
	}
	return "does not have the form the API reference gives"
}

func bounds(schema *openapi3.Schema) string {
	switch {
	case schema.Min != nil && schema.Max != nil:
		return fmt.Sprintf(" from %g to %g", *schema.Min, *schema.Max)
	case schema.Min != nil:
		return fmt.Sprintf(", %g or more", *schema.Min)
	case schema.Max != nil:
		return fmt.Sprintf(", %g or less", *schema.Max)
	}
	return ""
}

// wrapperParameter reads the name of the parameter the generated server could not bind
// ("Invalid format for parameter id: …").
var wrapperParameter = regexp.MustCompile(`^Invalid format for parameter ([A-Za-z0-9_-]+)`)

// describeBindError says what a parameter the generated server could not bind must be,
// from the operation's parameter in the contract.
func (s *Server) describeBindError(c echo.Context, message string) (*errs.Error, []api.FieldError, bool) {
	m := wrapperParameter.FindStringSubmatch(message)
	if m == nil {
		return nil, nil, false
	}
	name, described := m[1], "does not have the form the API reference gives"
	if p := s.parameter(c, name); p != nil && p.Schema != nil {
		described = describeSchema(p.Schema.Value, "format")
	}
	return errs.New(errs.CodeValidationFailed, "The request does not match the API contract: "+name+" "+described+"."),
		[]api.FieldError{{Field: name, Message: described}}, true
}

// parameter finds the parameter name of the operation c's route serves.
func (s *Server) parameter(c echo.Context, name string) *openapi3.Parameter {
	path := regexp.MustCompile(`:([A-Za-z0-9_]+)`).ReplaceAllString(c.Path(), "{$1}")
	item := s.spec.Paths.Value(path)
	if item == nil {
		return nil
	}
	params := item.Parameters
	if op := item.GetOperation(c.Request().Method); op != nil {
		params = append(params, op.Parameters...)
	}
	for _, p := range params {
		if p.Value != nil && p.Value.Name == name {
			return p.Value
		}
	}
	return nil
}

// allowHeader sets Allow on a 405: the router knows the route's methods even when the
// request validator is what refused the request.
func allowHeader(c echo.Context, status int) {
	if allow, ok := c.Get(echo.ContextKeyHeaderAllow).(string); ok && status == http.StatusMethodNotAllowed {
		c.Response().Header().Set(echo.HeaderAllow, allow)
	}
}
