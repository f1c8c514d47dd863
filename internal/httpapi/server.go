// Package httpapi is Switchboard's HTTP layer: the Echo server generated from openapi.yaml,
// its middleware (request ids, logging, authentication, validation against the contract),
// the handlers that turn requests into calls on the services, and the one place where
// errors become RFC 9457 problems.
package httpapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	echomiddleware "github.com/oapi-codegen/echo-middleware"

	switchboard "github.com/switchboard-health/switchboard"
	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/erasure"
	"github.com/switchboard-health/switchboard/internal/lifecycle"
	"github.com/switchboard-health/switchboard/internal/logging"
	"github.com/switchboard-health/switchboard/internal/metrics"
	"github.com/switchboard-health/switchboard/internal/outbound"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/twilio"
)

// Deps are what the server needs.
type Deps struct {
	Log          *slog.Logger
	DB           *tenant.DB
	Verifier     *tenant.Verifier
	PhoneNumbers *phonenumbers.Service
	Routing      *routing.Settings
	Calls        *calls.Reader
	Intake       *calls.Intake
	FollowUp     *calls.FollowUp
	Endpoints    *outbound.Endpoints
	Eraser       *erasure.Eraser
	Accounts     *lifecycle.Accounts
	Hub          *calls.Hub
	Twilio       *twilio.Verifier
	VapiSecret   string
	Metrics      *metrics.Metrics
	MetricsToken string // what the monitoring sends to read /metrics; none: not served
	// Heartbeat is how often a live stream sends a comment line (default 15 s).
	Heartbeat time.Duration
	// Origins are the web origins (scheme, host and port) whose pages may call the API from a
	// browser, such as the SPA's.
	Origins []string
	// Proxies are the networks of the proxies in front of the service, whose
	// X-Forwarded-For and X-Real-IP are believed; without any, the client is the peer.
	Proxies []*net.IPNet
}

// Server serves the API.
type Server struct {
	log          *slog.Logger
	db           *tenant.DB
	verifier     *tenant.Verifier
	phoneNumbers *phonenumbers.Service
	routing      *routing.Settings
	calls        *calls.Reader
	intake       *calls.Intake
	followUp     *calls.FollowUp
	endpoints    *outbound.Endpoints
	eraser       *erasure.Eraser
	clinics      *lifecycle.Clinics
	accounts     *lifecycle.Accounts
	hub          *calls.Hub
	heartbeat    time.Duration
	twilio       *twilio.Verifier
	vapiSecret   string
	metrics      *metrics.Metrics
	metricsToken string
	replays      chan struct{} // a slot for each live-stream replay that may run at once
	audit        *audit.Log
	specJSON     []byte
	spec         *openapi3.T // the contract, for describing what a request got wrong
	echo         *echo.Echo
}

// maxBodyBytes bounds the API's request bodies; none is legitimately near it.
const maxBodyBytes = "1M"

// New builds the server and its routes.
func New(d Deps) (*Server, error) {
	// The whole contract, webhooks included, as written: the generated server leaves the
	// webhooks out, the served and validated spec does not.
	spec, err := openapi3.NewLoader().LoadFromData(switchboard.OpenAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("loading the embedded OpenAPI spec: %w", err)
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encoding the OpenAPI spec: %w", err)
	}
	s := &Server{
		log:          d.Log,
		db:           d.DB,
		verifier:     d.Verifier,
		phoneNumbers: d.PhoneNumbers,
		routing:      d.Routing,
		followUp:     d.FollowUp,
		endpoints:    d.Endpoints,
		eraser:       d.Eraser,
		clinics:      lifecycle.NewClinics(d.DB),
		accounts:     d.Accounts,
		calls:        d.Calls,
		intake:       d.Intake,
		hub:          d.Hub,
		heartbeat:    d.Heartbeat,
		twilio:       d.Twilio,
		vapiSecret:   d.VapiSecret,
		metrics:      d.Metrics,
		metricsToken: d.MetricsToken,
		replays:      make(chan struct{}, 4),
		audit:        audit.NewLog(d.DB),
		specJSON:     specJSON,
		spec:         spec,
	}

	if s.heartbeat == 0 {
		s.heartbeat = 15 * time.Second
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = clientAddress(d.Proxies)
	s.use(e, spec, d.Origins)
	api.RegisterHandlers(e, api.NewStrictHandler(s, nil))
	s.registerWebhooks(e)
	s.echo = e
	return s, nil
}

// use installs the middleware every request passes through, in order: the headers every
// answer carries, which other origins may call it (and the answer to their preflights), its id (the caller's only when it is safe to log), its log
// line, recovery from a panic, the body limit, the guard against unstorable text, and
// validation against the contract (which authenticates the operations that ask for the
// bearer token).
func (s *Server) use(e *echo.Echo, spec *openapi3.T, origins []string) {
	e.Use(safeRequestID, noStore, crossOrigin(origins))
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		TargetHeader: echo.HeaderXRequestID,
		// Every log line of the request, wherever it is written, carries the id; so does
		// every audit entry it writes, with the client's address and user agent.
		RequestIDHandler: func(c echo.Context, id string) {
			ctx := logging.WithRequestID(c.Request().Context(), id)
			ctx = audit.WithRequest(ctx, audit.Request{ID: id, ClientAddress: c.RealIP(), UserAgent: c.Request().UserAgent()})
			c.SetRequest(c.Request().WithContext(ctx))
		},
	}))
	e.Use(s.logRequests())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll:   true,
		DisablePrintStack: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.ErrorContext(c.Request().Context(), "panic",
				slog.String("error", err.Error()), slog.String("stack", string(stack)))
			return err
		},
	}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: maxBodyBytes, Skipper: isWebhook}))
	e.Use(guardInput)
	e.Use(echomiddleware.OapiRequestValidatorWithOptions(spec, &echomiddleware.Options{
		DoNotValidateServers: true,
		Skipper:              isWebhook,
		Options: openapi3filter.Options{
			AuthenticationFunc: s.authenticate,
		},
	}))
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// logRequests logs one line per request with its id, route, status and duration, and
// records the duration in the metrics. It uses the route pattern rather than the URL, so
// no query string or id reaches the logs or the metrics' labels.
func (s *Server) logRequests() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:    true,
		LogLatency:   true,
		LogMethod:    true,
		LogRoutePath: true,
		HandleError:  true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			if s.metrics != nil {
				s.metrics.ObserveHTTP(v.RoutePath, v.Method, v.Status, v.Latency)
			}
			s.log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", v.Method),
				slog.String("route", v.RoutePath),
				slog.Int("status", v.Status),
				slog.Duration("duration", v.Latency.Round(time.Microsecond)))
			return nil
		},
	})
}

// isWebhook tells the webhooks apart: they authenticate and bound their bodies themselves.
func isWebhook(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/webhooks/")
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
