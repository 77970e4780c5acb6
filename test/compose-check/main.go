// compose-check loads a compose file the way Docker Compose v2 does, through compose-go v2 (the
// loader Compose itself uses: the compose-spec schema, interpolation, merge keys), with the
// process environment but no .env file, i.e. what a clean checkout sees with the variables the
// caller sets (the tests set only the required LAKEHOUSE_HOP_KEY). It prints the resolved project
// as JSON, or the loader's error on stderr and exits 1. A test tool for
// test/src/compose-config.test.ts (no Docker engine runs here), not part of the product.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check <compose file>")
		os.Exit(2)
	}
	file, err := filepath.Abs(os.Args[1])
	if err != nil {
		fail(err)
	}
	options, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithName("lakehouse-observability"),
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithOsEnv,
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(append(out, '\n'))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
