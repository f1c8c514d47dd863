package twilio

import (
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/internal/providertest"
)

func TestAnswersAreTwiMLTwilioCanRun(t *testing.T) {
	var a Answer
	if v := providertest.ParseTwiML(t, a.Reject()); len(v) != 1 || v[0].XMLName.Local != "Reject" {
		t.Fatalf("Reject: %+v", v)
	}
	dial := providertest.ParseTwiML(t, a.Dial("+12127365000", "+13127445000"))
	if len(dial) != 1 || dial[0].XMLName.Local != "Dial" || dial[0].Attr("action") != DialActionPath ||
		dial[0].Attr("callerId") != "+13127445000" || len(dial[0].Inner) != 1 ||
		dial[0].Inner[0].XMLName.Local != "Number" || strings.TrimSpace(dial[0].Inner[0].Text) != "+12127365000" {
		t.Fatalf("Dial: %+v", dial)
	}
	// A clinic's greeting is text, never markup.
	vm := providertest.ParseTwiML(t, a.Voicemail(`We're closed <Hangup/> & away`))
	if len(vm) < 2 || vm[0].XMLName.Local != "Say" || vm[0].Text != `We're closed <Hangup/> & away` ||
		vm[1].XMLName.Local != "Record" || vm[1].Attr("action") != VoicemailActionPath ||
		vm[1].Attr("recordingStatusCallback") != RecordingStatusPath {
		t.Fatalf("Voicemail: %+v", vm)
	}
	if vm := providertest.ParseTwiML(t, a.Voicemail("")); vm[0].Text != DefaultGreeting {
		t.Fatalf("Voicemail without a greeting says %q", vm[0].Text)
	}
	for name, doc := range map[string]string{"Goodbye": a.Goodbye(), "Apology": a.Apology(), "Hangup": a.Hangup()} {
		v := providertest.ParseTwiML(t, doc)
		if v[len(v)-1].XMLName.Local != "Hangup" {
			t.Errorf("%s does not end the call: %+v", name, v)
		}
	}
}
