package vapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecodeEndOfCallReport(t *testing.T) {
	t.Parallel()
	body := []byte(`{"message":{
		"type":"end-of-call-report","endedReason":"customer-ended-call",
		"startedAt":"2026-11-28T10:00:00.000Z","endedAt":"2026-11-28T10:01:00.600Z","cost":0.05,
		"call":{"id":"vc_1","metadata":{"user_id":"user_a","call_id":"c1"},
		        "assistantOverrides":{"metadata":{"user_id":"user_x","phone_number_id":"pn1","twilio_call_sid":"CA1"}}},
		"artifact":{"transcript":"hi","messages":[{"role":"bot"}],"stereoRecordingUrl":"https://s/stereo-flat.wav",
		            "recording":{"mono":{"combinedUrl":"https://s/mono.wav"}}},
		"recordingUrl":"https://s/oldest.wav",
		"analysis":{"summary":"booked","structuredData":{"a":1},"successEvaluation":"Pass"}}}`)
	m, err := Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != TypeEndOfCallReport || m.CallID != "vc_1" || *m.EndedReason != "customer-ended-call" ||
		*m.Cost != 0.05 || *m.Transcript != "hi" || string(m.Messages) != `[{"role":"bot"}]` ||
		*m.RecordingURL != "https://s/mono.wav" || *m.StereoRecordingURL != "https://s/stereo-flat.wav" ||
		*m.Summary != "booked" || string(m.StructuredData) != `{"a":1}` || *m.SuccessEvaluation != "Pass" {
		t.Fatalf("decoded %+v", m)
	}
	// Metadata: call.metadata first, each field falling back to the overrides'.
	if m.Metadata != (Metadata{UserID: "user_a", CallID: "c1", PhoneNumberID: "pn1", TwilioCallSid: "CA1"}) {
		t.Errorf("metadata %+v", m.Metadata)
	}
	if d := m.DurationSeconds(); d == nil || *d != 61 {
		t.Errorf("duration %v, want 61", d)
	}
}

func TestDecodeFallsBackToOlderFields(t *testing.T) {
	t.Parallel()
	m, err := Decode([]byte(`{"message":{"type":"end-of-call-report","recordingUrl":"https://s/old.wav",
		"stereoRecordingUrl":"https://s/old-stereo.wav","summary":"old summary","transcript":"old transcript",
		"messages":[1],"startedAt":1764324000000,"endedAt":"not a time",
		"analysis":{"successEvaluation":false,"structuredData":[1,2]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if *m.RecordingURL != "https://s/old.wav" || *m.StereoRecordingURL != "https://s/old-stereo.wav" ||
		*m.Summary != "old summary" || *m.Transcript != "old transcript" || string(m.Messages) != "[1]" ||
		*m.SuccessEvaluation != "false" || m.StructuredData != nil || m.EndedAt != nil ||
		m.StartedAt == nil || !m.StartedAt.Equal(time.UnixMilli(1764324000000)) || m.DurationSeconds() != nil {
		t.Fatalf("decoded %+v", m)
	}
}

func TestDecodeRefusesWhatIsNotAMessage(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `{`, `[]`, `{"message":null}`, `{"message":{}}`, `{"message":{"type":7}}`, `{"type":"status-update"}`} {
		if _, err := Decode([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", body, err)
		}
	}
}

// A report is read as leniently as encoding/json read it, so that VAPI's one delivery is
// stored: names in any case, the last of duplicate names. Text PostgreSQL could not store
// (invalid UTF-8, NUL characters, in plain fields as in the messages that become jsonb) is
// kept with those bytes replaced by U+FFFD, rather than failing the report.
func TestDecodeIsLenient(t *testing.T) {
	t.Parallel()
	m, err := Decode([]byte("{\"message\":{\"Type\":\"end-of-call-report\",\"summary\":\"first\",\"summary\":\"last\"," +
		"\"call\":{\"id\":\"vc\\u0000x\"},\"endedReason\":\"hang\xffup\"," +
		"\"artifact\":{\"transcript\":\"caf\xe9 \\u0000\",\"messages\":[\"caf\xe9\",{\"k\\u0000\":\"v\\u0000\"}]}}}"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != TypeEndOfCallReport || *m.Summary != "last" || *m.Transcript != "caf\uFFFD \uFFFD" ||
		m.CallID != "vc\uFFFDx" || *m.EndedReason != "hang\uFFFDup" {
		t.Fatalf("decoded %+v", m)
	}
	if got := string(m.Messages); got != "[\"caf\uFFFD\",{\"k\uFFFD\":\"v\uFFFD\"}]" {
		t.Fatalf("messages %s", got)
	}
}

// A cost is a number of dollars; anything else (negative, absurd, not finite) is left out
// instead of reaching the clinic's statistics.
func TestDecodeKeepsOnlyPlausibleCosts(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]float64{`0.1234`: 0.1234, `0`: 0, `1e308`: -1, `-3`: -1, `"NaN"`: -1, `999999.99`: 999999.99} {
		m, err := Decode([]byte(`{"message":{"type":"end-of-call-report","cost":` + raw + `}}`))
		if err != nil {
			t.Fatal(err)
		}
		if (want < 0) != (m.Cost == nil) || (m.Cost != nil && *m.Cost != want) {
			t.Errorf("cost %s decoded as %v", raw, m.Cost)
		}
	}
}

func BenchmarkDecodeEndOfCallReport(b *testing.B) {
	body, err := json.Marshal(map[string]any{"message": map[string]any{
		"type": "end-of-call-report", "startedAt": "2026-11-28T10:00:00Z", "endedAt": "2026-11-28T10:04:00Z",
		"call":     map[string]any{"id": "vc_1", "metadata": map[string]any{"user_id": "user_a", "phone_number_id": "pn1"}},
		"artifact": map[string]any{"transcript": strings.Repeat("User: I would like to book a cleaning. AI: Of course. ", 350), "messages": []any{map[string]any{"role": "user"}}},
		"analysis": map[string]any{"summary": "Booked a cleaning.", "successEvaluation": "true"},
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecode: any body either fails with ErrMalformed or decodes into fields of the
// promised shapes.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"message":{"type":"status-update","status":"ended","endedReason":"x","call":{"id":"1"}}}`))
	f.Add([]byte(`{"message":{"type":"end-of-call-report","artifact":{"messages":[{}],"recording":{"mono":{}}},"analysis":{"successEvaluation":3.5,"structuredData":{}}}}`))
	f.Add([]byte(`{"message":{"type":"x","call":{"metadata":{"user_id":1,"call_id":{"a":1}},"assistantOverrides":null}}}`))
	f.Add([]byte(`{"message":{"type":"end-of-call-report","startedAt":1e300,"endedAt":-1,"cost":"free"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Decode(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if m.Type == "" {
			t.Fatal("decoded a message without a type")
		}
		if m.Messages != nil && (m.Messages[0] != '[' || !json.Valid(m.Messages)) {
			t.Fatalf("messages %q is not a JSON array", m.Messages)
		}
		if m.StructuredData != nil && (m.StructuredData[0] != '{' || !json.Valid(m.StructuredData)) {
			t.Fatalf("structured data %q is not a JSON object", m.StructuredData)
		}
		if d := m.DurationSeconds(); d != nil && *d < 0 {
			t.Fatalf("negative duration %d", *d)
		}
	})
}

// The cost by part is kept (transport, stt, llm, tts, vapi), without VAPI's other fields
// or values no call costs; and so are the structured outputs.
func TestDecodeKeepsTheCostBreakdownAndStructuredOutputs(t *testing.T) {
	t.Parallel()
	m, err := Decode([]byte(`{"message":{"type":"end-of-call-report","call":{"id":"vc_1"},
		"costBreakdown":{"transport":0.01,"stt":0.02,"llm":0.03,"tts":-1,"vapi":0.05,"total":0.11,"llmPromptTokens":900},
		"artifact":{"structuredOutputs":{"5f0c":{"name":"callbackRequested","result":true}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(m.CostBreakdown) != `{"llm":0.03,"stt":0.02,"transport":0.01,"vapi":0.05}` {
		t.Errorf("cost breakdown %s", m.CostBreakdown)
	}
	if !strings.Contains(string(m.StructuredOutputs), `"callbackRequested"`) {
		t.Errorf("structured outputs %s", m.StructuredOutputs)
	}
	if m, _ := Decode([]byte(`{"message":{"type":"end-of-call-report","costBreakdown":{"total":1}}}`)); m.CostBreakdown != nil {
		t.Errorf("a breakdown without parts: %s", m.CostBreakdown)
	}
}
