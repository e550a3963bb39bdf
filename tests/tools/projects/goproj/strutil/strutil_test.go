package strutil

import (
	"os"
	"testing"
)

func TestShout(t *testing.T) {
	if Shout("hi") != "HI!" {
		t.Fatal("Shout is wrong")
	}
}

func TestReadsFixtureFromPackageDir(t *testing.T) {
	if _, err := os.Stat("strutil.go"); err != nil {
		t.Fatal(err)
	}
}
