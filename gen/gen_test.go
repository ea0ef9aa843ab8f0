package gen

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if _, err := Init(""); err != nil {
		println(err.Error())
		os.Exit(1)
	}
	os.Exit(m.Run())
}
