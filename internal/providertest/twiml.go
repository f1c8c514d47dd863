package providertest

import (
	"encoding/xml"
	"reflect"
	"slices"
	"strings"
)

// T is what the TwiML readers need of a test (testing.TB has it); this package stays out
// of the testing package, since the binary's simulate-call uses it.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Verb is a TwiML verb as Twilio reads it: its name, attributes, text and nested nouns.
type Verb struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Inner   []Verb     `xml:",any"`
}

// Attr is the verb's attribute name ("" when absent).
func (v Verb) Attr(name string) string {
	for _, a := range v.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// ParseTwiML reads a TwiML document's verbs, failing the test for anything that is not one.
func ParseTwiML(t T, doc string) []Verb {
	t.Helper()
	var r struct {
		XMLName xml.Name
		Verbs   []Verb `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(doc), &r); err != nil || r.XMLName.Local != "Response" {
		t.Fatalf("not a TwiML document: %v\n%s", err, doc)
	}
	return r.Verbs
}

// VerbNames names a TwiML document's verbs in order.
func VerbNames(t T, doc string) []string {
	t.Helper()
	var out []string
	for _, v := range ParseTwiML(t, doc) {
		out = append(out, v.XMLName.Local)
	}
	return out
}

// SameTwiML reports whether two documents say the same to Twilio: the same verbs, text and
// attributes, whatever order the builder wrote the attributes in.
func SameTwiML(t T, a, b string) bool {
	t.Helper()
	return reflect.DeepEqual(canonical(ParseTwiML(t, a)), canonical(ParseTwiML(t, b)))
}

func canonical(vs []Verb) []Verb {
	out := make([]Verb, len(vs))
	for i, v := range vs {
		attrs := slices.Clone(v.Attrs)
		slices.SortFunc(attrs, func(x, y xml.Attr) int { return strings.Compare(x.Name.Local, y.Name.Local) })
		out[i] = Verb{XMLName: v.XMLName, Attrs: attrs, Text: v.Text, Inner: canonical(v.Inner)}
	}
	return out
}
