package twilio

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Twilio's published example (its webhook security guide) and twilio-go's own vector,
// checked through Verifier: the URL is rebuilt from the public base URL and the request's
// path and query, never from the Host the request came in on.
func TestPublishedSignatureVectors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		params    url.Values
		signature string
	}{
		{"Twilio docs", url.Values{
			"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
			"From": {"+12349013030"}, "To": {"+18005551212"},
		}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
		{"twilio-go", url.Values{
			"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"},
			"From": {"+14158675309"}, "To": {"+18005551212"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
		}, "vOEb5UThFn24KEfnOFLQY2AE5FY="},
	}
	v := NewVerifier("12345", "https://mycompany.com")
	for _, c := range cases {
		req := httptest.NewRequest("POST", "/myapp.php?foo=1&bar=2", strings.NewReader(c.params.Encode()))
		req.Host = "internal-lb:8080"
		req.Header.Set("X-Twilio-Signature", c.signature)
		if !v.Verify(req, c.params) {
			t.Errorf("%s: the published signature does not verify", c.name)
		}
		tampered := url.Values{}
		for k, vs := range c.params {
			tampered[k] = vs
		}
		tampered.Set("Digits", "9999")
		if v.Verify(req, tampered) {
			t.Errorf("%s: a changed parameter still verifies", c.name)
		}
		other := httptest.NewRequest("POST", "/myapp.php?foo=1&bar=3", nil)
		other.Header.Set("X-Twilio-Signature", c.signature)
		if v.Verify(other, c.params) {
			t.Errorf("%s: a changed query still verifies", c.name)
		}
	}
}

func TestVerifierFailsClosed(t *testing.T) {
	t.Parallel()
	params := url.Values{"CallSid": {"CA1234567890ABCDE"}}
	req := httptest.NewRequest("POST", "/myapp.php", nil)
	req.Header.Set("X-Twilio-Signature", "anything")
	for name, v := range map[string]*Verifier{
		"no token":    NewVerifier("", "https://mycompany.com"),
		"no base URL": NewVerifier("12345", ""),
	} {
		if v.Verify(req, params) {
			t.Errorf("%s: verified", name)
		}
	}
	noSig := httptest.NewRequest("POST", "/myapp.php", nil)
	if NewVerifier("12345", "https://mycompany.com").Verify(noSig, params) {
		t.Error("a request without a signature verified")
	}
	repeated := url.Values{"CallSid": {"CA1", "CA2"}}
	if NewVerifier("12345", "https://mycompany.com").Verify(req, repeated) {
		t.Error("a repeated parameter verified")
	}
}

func TestParseStatusReadsTheCallback(t *testing.T) {
	t.Parallel()
	sc, ok := ParseStatus(url.Values{"CallSid": {" CA1 "}, "CallStatus": {"completed"}, "CallDuration": {"17"}})
	if !ok || sc.CallSid != "CA1" || sc.CallStatus != "completed" || sc.Duration == nil || *sc.Duration != 17 {
		t.Errorf("parsed %+v (ok %v)", sc, ok)
	}
	if _, ok := ParseStatus(url.Values{"CallSid": {"CA1"}}); ok {
		t.Error("a callback without a CallStatus parsed")
	}
	if sc, _ := ParseStatus(url.Values{"CallSid": {"CA1"}, "CallStatus": {"completed"}, "CallDuration": {"-3"}}); sc.Duration != nil {
		t.Error("a negative duration was kept")
	}
}

// FuzzFormHandling feeds arbitrary bodies through what the Twilio webhooks do with them:
// parse the form, verify, read the call. Nothing may panic, and a parsed call always has
// a CallSid.
func FuzzFormHandling(f *testing.F) {
	f.Add("CallSid=CA1&From=%2B13127445000&To=%2B16172531000&ForwardedFrom=%2B12127365000")
	f.Add("CallSid=CA1&CallStatus=completed&CallDuration=42")
	f.Add("CallSid=&CallStatus=&CallDuration=99999999999999999999")
	f.Add("%zz=1&CallSid=CA1&CallSid=CA2")
	f.Add("")
	v := NewVerifier("12345", "https://mycompany.com")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		req := httptest.NewRequest("POST", "/api/webhooks/twilio", strings.NewReader(body))
		req.Header.Set("X-Twilio-Signature", "AAAA")
		_ = v.Verify(req, form)
		if in, ok := ParseInbound(form); ok && in.CallSid == "" {
			t.Fatal("parsed a call without a CallSid")
		}
		if sc, ok := ParseStatus(form); ok && (sc.CallSid == "" || sc.CallStatus == "") {
			t.Fatalf("parsed status %+v without a CallSid or a CallStatus", sc)
		}
	})
}
