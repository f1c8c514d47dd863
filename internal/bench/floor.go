package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// floorMain serves the floor: what the same work costs with nothing but net/http, one pgx
// query on a pool configured like Switchboard's, and encoding/json.
func floorMain(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	dbURL := fs.String("db", "", "database URL")
	addrFile := fs.String("addr-file", "", "where to write the listening address")
	_ = fs.Parse(args)
	pool, err := pgxpool.New(context.Background(), *dbURL)
	if err != nil {
		return err
	}
	if _, err := pool.Exec(context.Background(), `CREATE TABLE IF NOT EXISTS floor_reports (id text PRIMARY KEY, payload bytea COMPRESSION lz4 NOT NULL)`); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /calls", func(w http.ResponseWriter, r *http.Request) {
		rows, err := pool.Query(r.Context(), `SELECT id, user_id, phone_number_id, status, direction, caller_number,
			clinic_number, assistant_number, matched_by, twilio_call_sid, vapi_call_id, started_at, ended_at,
			duration_seconds, ended_reason, recording_url, stereo_recording_url, summary, success_evaluation,
			structured_data, cost, created_at, updated_at
			FROM calls WHERE user_id = $1 ORDER BY started_at DESC, id DESC LIMIT 51`, r.URL.Query().Get("tenant"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		type call struct {
			ID                 uuid.UUID        `json:"id"`
			UserID             string           `json:"-"`
			PhoneNumberID      *uuid.UUID       `json:"phone_number_id"`
			Status             string           `json:"status"`
			Direction          string           `json:"direction"`
			CallerNumber       *string          `json:"caller_number"`
			ClinicNumber       *string          `json:"clinic_number"`
			AssistantNumber    *string          `json:"assistant_number"`
			MatchedBy          *string          `json:"matched_by"`
			TwilioCallSid      *string          `json:"twilio_call_sid"`
			VapiCallID         *string          `json:"vapi_call_id"`
			StartedAt          time.Time        `json:"started_at"`
			EndedAt            *time.Time       `json:"ended_at"`
			DurationSeconds    *int32           `json:"duration_seconds"`
			EndedReason        *string          `json:"ended_reason"`
			RecordingURL       *string          `json:"recording_url"`
			StereoRecordingURL *string          `json:"stereo_recording_url"`
			Summary            *string          `json:"summary"`
			SuccessEvaluation  *string          `json:"success_evaluation"`
			StructuredData     *json.RawMessage `json:"structured_data"`
			Cost               *float64         `json:"cost"`
			CreatedAt          time.Time        `json:"created_at"`
			UpdatedAt          time.Time        `json:"updated_at"`
		}
		var items []call
		for rows.Next() {
			var c call
			if err := rows.Scan(&c.ID, &c.UserID, &c.PhoneNumberID, &c.Status, &c.Direction, &c.CallerNumber,
				&c.ClinicNumber, &c.AssistantNumber, &c.MatchedBy, &c.TwilioCallSid, &c.VapiCallID, &c.StartedAt,
				&c.EndedAt, &c.DurationSeconds, &c.EndedReason, &c.RecordingURL, &c.StereoRecordingURL, &c.Summary,
				&c.SuccessEvaluation, &c.StructuredData, &c.Cost, &c.CreatedAt, &c.UpdatedAt); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			items = append(items, c)
		}
		if len(items) > 50 {
			items = items[:50]
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items, "next_cursor": nil})
	})
	mux.HandleFunc("POST /ingest", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 10<<20))
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var env struct {
			Message struct {
				Call struct {
					ID string `json:"id"`
				} `json:"call"`
			} `json:"message"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if _, err := pool.Exec(r.Context(), `INSERT INTO floor_reports (id, payload) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET payload = excluded.payload`, env.Message.Call.ID, body); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"received":true}`))
	})
	addDashboardFloors(mux, pool)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o600); err != nil {
		return err
	}
	return (&http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}).Serve(ln)
}
