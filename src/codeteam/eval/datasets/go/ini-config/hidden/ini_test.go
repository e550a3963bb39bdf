package ini

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	src := "top = level\r\n" +
		"; comment\n" +
		"  # another\n" +
		"\n" +
		"[server]\n" +
		"host = example.org   \n" +
		"\tport=8080 ; inline comment\n" +
		"url = http://x/?a=b#frag\n" +
		"empty =\n" +
		"quoted = \"  keep ; this # too \"\n" +
		"[ db ]\n" +
		"user = admin\n" +
		"user = root\n" +
		"[server]\n" +
		"timeout = 30 #s\n"
	got, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"": {"top": "level"},
		"server": {"host": "example.org", "port": "8080", "url": "http://x/?a=b#frag",
			"empty": "", "quoted": "  keep ; this # too ", "timeout": "30"},
		"db": {"user": "root"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse =\n%v\nwant\n%v", got, want)
	}
}

func TestEmptyDocument(t *testing.T) {
	got, err := Parse("")
	if err != nil || !reflect.DeepEqual(got, map[string]map[string]string{"": {}}) {
		t.Fatalf("Parse(\"\") = %v, %v", got, err)
	}
}

func TestErrors(t *testing.T) {
	cases := map[string]string{
		"a = 1\njunk line\n":  "line 2",
		"[]\n":                "line 1",
		"\n\n[unterminated\n": "line 3",
		"ok=1\n = value\n":    "line 2",
		"[s]\n[ ]\n":          "line 2",
	}
	for src, want := range cases {
		got, err := Parse(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, %v; want an error with %q", src, got, err, want)
		}
	}
}
