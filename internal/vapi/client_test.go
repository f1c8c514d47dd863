package vapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCreateCall(t *testing.T) {
	t.Parallel()
	var got map[string]any
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"vc_9","phoneCallProviderDetails":{"twiml":"<Response/>"},"futureField":[1,2]}`))
	}))
	defer srv.Close()

	c := NewClient(srv.URL+"/", "key_1", time.Second)
	meta := Metadata{UserID: "u", CallID: "c", PhoneNumberID: "p", TwilioCallSid: "CA1"}
	call, err := c.CreateCall(context.Background(), CreateCallRequest{PhoneNumberID: "vpn", AssistantID: "asst", CustomerNumber: "+13127445000", Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	if call.ID != "vc_9" || call.TwiML != "<Response/>" || !strings.Contains(string(call.Raw), `"futureField":[1,2]`) {
		t.Fatalf("call %+v", call)
	}
	if auth != "Bearer key_1" || got["phoneCallProviderBypassEnabled"] != true || got["assistantId"] != "asst" ||
		got["phoneNumberId"] != "vpn" || got["customer"].(map[string]any)["number"] != "+13127445000" ||
		got["metadata"].(map[string]any)["call_id"] != "c" ||
		got["assistantOverrides"].(map[string]any)["metadata"].(map[string]any)["twilio_call_sid"] != "CA1" {
		t.Fatalf("request %v (auth %q)", got, auth)
	}
}

func TestCreateCallFailures(t *testing.T) {
	t.Parallel()
	answers := map[string]http.HandlerFunc{
		"error status": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) },
		"no twiml": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(201)
			_, _ = w.Write([]byte(`{"id":"vc"}`))
		},
		"not json": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201); _, _ = w.Write([]byte(`<html>`)) },
		"too slow": func(w http.ResponseWriter, r *http.Request) { time.Sleep(500 * time.Millisecond); w.WriteHeader(201) },
	}
	for name, h := range answers {
		srv := httptest.NewServer(h)
		_, err := NewClient(srv.URL, "k", 100*time.Millisecond).CreateCall(context.Background(), CreateCallRequest{})
		srv.Close()
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
	}
}
