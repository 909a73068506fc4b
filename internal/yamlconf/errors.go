// Package yamlconf loads flowmask's YAML config files the same way for every
// section (proxy routes, forward:, secrets:, kafka:, rule files): strictly
// (unknown keys, values of the wrong type and duplicate keys are errors),
// reporting every problem at once as an [Error] that names the file, the line
// and column, and the dotted key path ("routes[2].upstream"), sorted by
// position so that the same file always gives the same message.
//
// It decodes yaml.v3's [yaml.Node] tree itself, so positions come from the
// nodes, never from the text of an error. Validation that runs after decoding
// returns errors made with [Errorf] (a key path and a message, no position);
// [Doc.Place] gives them the position of their key in the file.
package yamlconf

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem in a config file. Decoding always sets Line (1-based);
// an Error made by [Errorf] in a Validate method has only Path and Msg until
// [Doc.Place] locates it.
type Error struct {
	// File is the config file's name as given to [Parse].
	File string
	// Line and Column are 1-based; for a missing key, those of its nearest
	// written parent.
	Line, Column int
	// Path is the dotted key path of the problem ("routes[2].limits.max_body_bytes"),
	// empty for the document as a whole.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Errorf returns an *Error at path without a position, for Validate methods.
func Errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Error formats e as "file:line: path: msg", leaving out what is unknown.
// The column is not printed (the format is the one documented for every
// command); it is in the Column field.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is a list of problems. As an error it prints one a line; errors.As
// finds each *Error in it.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns each *Error, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Sorted returns the errors ordered by file, line and column (stable, so
// problems at one place keep the order in which they were found), without
// repeats of the same message.
func (es Errors) Sorted() Errors {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	seen := make(map[Error]bool, len(out))
	return slices.DeleteFunc(out, func(e *Error) bool {
		dup := seen[*e]
		seen[*e] = true
		return dup
	})
}

// Err returns the sorted errors as an error, or nil when there are none.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es.Sorted()
}

// Flatten returns the *Errors in err (joined with errors.Join or as Errors,
// at any depth) in order. An error that is no *Error becomes one with only
// its message.
func Flatten(err error) Errors {
	if err == nil {
		return nil
	}
	switch e := err.(type) {
	case *Error:
		return Errors{e}
	case Errors:
		return slices.Clone(e)
	case interface{ Unwrap() []error }:
		var out Errors
		for _, c := range e.Unwrap() {
			out = append(out, Flatten(c)...)
		}
		return out
	}
	var fe *Error
	if errors.As(err, &fe) && fe.Error() == err.Error() {
		return Errors{fe}
	}
	return Errors{{Msg: err.Error()}}
}

// Prefix puts prefix in front of the path of every error in err: a section's
// Validate reports "keyvaults[0].url", its loader "secrets.keyvaults[0].url".
// It returns nil for a nil err.
func Prefix(prefix string, err error) error {
	es := Flatten(err)
	if len(es) == 0 {
		return nil
	}
	out := make(Errors, len(es))
	for i, e := range es {
		c := *e
		c.Path = JoinPath(prefix, e.Path)
		out[i] = &c
	}
	return out
}

// JoinPath joins a key path and a key ("routes[0]" + "upstream") or an index
// ("routes" + "[0]").
func JoinPath(path, key string) string {
	switch {
	case path == "":
		return key
	case key == "":
		return path
	case key[0] == '[':
		return path + key
	}
	return path + "." + key
}

// Merge returns the decoding errors with the validation errors added, but
// for a validation error at (or below) a path that did not decode: a value
// that could not be read says so once, not again as "required".
func Merge(decoded, validated Errors) Errors {
	out := slices.Clone(decoded)
	for _, v := range validated {
		covered := false
		for _, d := range decoded {
			if d.Path != "" && (v.Path == d.Path || strings.HasPrefix(v.Path, d.Path+".") || strings.HasPrefix(v.Path, d.Path+"[")) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, v)
		}
	}
	return out
}
