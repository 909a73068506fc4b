package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/flowmask/flowmask/redactor"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

// secretFlags name known secret values to mask as literals.
type secretFlags struct {
	files []string
	envs  []string
}

func (f *secretFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.files, "secrets-file", nil, "mask every value in this `FILE` (one per line) wherever it occurs, also base64-, URL-, JSON- and hex-encoded (repeatable)")
	fl.StringArrayVar(&f.envs, "secret-env", nil, "mask the value of environment variable `NAME` (repeatable)")
}

// literals loads the values the flags name. It never logs a value.
func (f *secretFlags) literals(logger *zap.Logger) ([]redactor.Literal, error) {
	var lits []redactor.Literal
	for _, name := range f.envs {
		v, ok := os.LookupEnv(name)
		if !ok {
			return nil, fmt.Errorf("--secret-env %s: the variable is not set", name)
		}
		lits = append(lits, redactor.Literal{Source: "env:" + name, Value: v})
	}
	for _, file := range f.files {
		fh, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--secrets-file: %w", err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		line := 0
		for sc.Scan() {
			line++
			v := strings.TrimRight(sc.Text(), "\r")
			if v == "" {
				continue
			}
			lits = append(lits, redactor.Literal{Source: fmt.Sprintf("%s:%d", file, line), Value: v})
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--secrets-file %s: %w", file, err)
		}
	}
	return lits, nil
}
