package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"time"

	switchboard "github.com/switchboard-health/switchboard"
	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/metrics"
)

// GetHealth answers while the process is up.
func (s *Server) GetHealth(context.Context, api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	return api.GetHealth200JSONResponse{Status: "ok"}, nil
}

// GetReady answers 200 when the database answers within two seconds.
func (s *Server) GetReady(ctx context.Context, _ api.GetReadyRequestObject) (api.GetReadyResponseObject, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		return nil, errs.NewCause(errs.CodeUnavailable, "The database is unavailable.", err)
	}
	return api.GetReady200JSONResponse{Status: "ok"}, nil
}

// GetOpenAPIYAML serves openapi.yaml as written.
func (s *Server) GetOpenAPIYAML(context.Context, api.GetOpenAPIYAMLRequestObject) (api.GetOpenAPIYAMLResponseObject, error) {
	return api.GetOpenAPIYAML200ApplicationyamlResponse{
		Body:          bytes.NewReader(switchboard.OpenAPIYAML),
		ContentLength: int64(len(switchboard.OpenAPIYAML)),
	}, nil
}

// GetOpenAPIJSON serves the same document as JSON, encoded once at start.
func (s *Server) GetOpenAPIJSON(context.Context, api.GetOpenAPIJSONRequestObject) (api.GetOpenAPIJSONResponseObject, error) {
	return rawJSON(s.specJSON), nil
}

// rawJSON writes bytes that are already JSON.
type rawJSON []byte

func (r rawJSON) VisitGetOpenAPIJSONResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r)
	return err
}

// GetMetrics serves the Prometheus metrics.
func (s *Server) GetMetrics(context.Context, api.GetMetricsRequestObject) (api.GetMetricsResponseObject, error) {
	if s.metrics == nil {
		return nil, errs.New(errs.CodeNotFound, "Metrics are not enabled.")
	}
	return metricsText{s.metrics}, nil
}

type metricsText struct{ m *metrics.Metrics }

func (t metricsText) VisitGetMetricsResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	return t.m.Write(w)
}
