package httpapi_test

import (
	"encoding/xml"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// twimlVerb is a TwiML verb as Twilio reads it.
type twimlVerb struct {
	XMLName xml.Name
	Attrs   []xml.Attr  `xml:",any,attr"`
	Text    string      `xml:",chardata"`
	Inner   []twimlVerb `xml:",any"`
}

// parseTwiML reads a TwiML document's verbs; it fails the test for anything that is not one.
func parseTwiML(t *testing.T, doc string) []twimlVerb {
	t.Helper()
	var r struct {
		XMLName xml.Name
		Verbs   []twimlVerb `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(doc), &r); err != nil || r.XMLName.Local != "Response" {
		t.Fatalf("not a TwiML document: %v\n%s", err, doc)
	}
	return r.Verbs
}

// verbs names a TwiML document's verbs in order.
func verbs(t *testing.T, doc string) []string {
	t.Helper()
	var out []string
	for _, v := range parseTwiML(t, doc) {
		out = append(out, v.XMLName.Local)
	}
	return out
}

func (v twimlVerb) attr(name string) string {
	for _, a := range v.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// sameTwiML reports whether two documents say the same to Twilio: the same verbs, text and
// attributes, whatever order the builder wrote the attributes in.
func sameTwiML(t *testing.T, a, b string) bool {
	t.Helper()
	return reflect.DeepEqual(canonical(parseTwiML(t, a)), canonical(parseTwiML(t, b)))
}

func canonical(vs []twimlVerb) []twimlVerb {
	out := make([]twimlVerb, len(vs))
	for i, v := range vs {
		attrs := slices.Clone(v.Attrs)
		slices.SortFunc(attrs, func(x, y xml.Attr) int { return strings.Compare(x.Name.Local, y.Name.Local) })
		out[i] = twimlVerb{XMLName: v.XMLName, Attrs: attrs, Text: v.Text, Inner: canonical(v.Inner)}
	}
	return out
}
