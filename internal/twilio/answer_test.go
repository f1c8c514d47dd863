package twilio

import (
	"encoding/xml"
	"strings"
	"testing"
)

// element is a TwiML verb as Twilio reads it.
type element struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Inner   []element  `xml:",any"`
}

func parse(t *testing.T, doc string) []element {
	t.Helper()
	var r struct {
		XMLName xml.Name
		Verbs   []element `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(doc), &r); err != nil || r.XMLName.Local != "Response" {
		t.Fatalf("not a TwiML document: %v\n%s", err, doc)
	}
	return r.Verbs
}

func attr(e element, name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestAnswersAreTwiMLTwilioCanRun(t *testing.T) {
	var a Answer
	if v := parse(t, a.Reject()); len(v) != 1 || v[0].XMLName.Local != "Reject" {
		t.Fatalf("Reject: %+v", v)
	}
	dial := parse(t, a.Dial("+12127365000", "+13127445000"))
	if len(dial) != 1 || dial[0].XMLName.Local != "Dial" || attr(dial[0], "action") != DialActionPath ||
		attr(dial[0], "callerId") != "+13127445000" || len(dial[0].Inner) != 1 ||
		dial[0].Inner[0].XMLName.Local != "Number" || strings.TrimSpace(dial[0].Inner[0].Text) != "+12127365000" {
		t.Fatalf("Dial: %+v", dial)
	}
	// A clinic's greeting is text, never markup.
	vm := parse(t, a.Voicemail(`We're closed <Hangup/> & away`))
	if len(vm) < 2 || vm[0].XMLName.Local != "Say" || vm[0].Text != `We're closed <Hangup/> & away` ||
		vm[1].XMLName.Local != "Record" || attr(vm[1], "action") != VoicemailActionPath ||
		attr(vm[1], "recordingStatusCallback") != RecordingStatusPath {
		t.Fatalf("Voicemail: %+v", vm)
	}
	if vm := parse(t, a.Voicemail("")); vm[0].Text != DefaultGreeting {
		t.Fatalf("Voicemail without a greeting says %q", vm[0].Text)
	}
	for name, doc := range map[string]string{"Goodbye": a.Goodbye(), "Apology": a.Apology(), "Hangup": a.Hangup()} {
		v := parse(t, doc)
		if v[len(v)-1].XMLName.Local != "Hangup" {
			t.Errorf("%s does not end the call: %+v", name, v)
		}
	}
}
