package patterns

import "testing"

// TestAssembleKeepsEveryFileOfAPack checks that a pack spread over two
// files comes in whole: the second file of a pack asked for was skipped.
func TestAssembleKeepsEveryFileOfAPack(t *testing.T) {
	files := []ruleFile{
		{rules: []Rule{{ID: "always"}}},
		{pack: "extra", rules: []Rule{{ID: "extra-one", Pack: "extra"}}},
		{pack: "extra", rules: []Rule{{ID: "extra-two", Pack: "extra"}}},
	}
	s, err := assemble(files, []string{"extra"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules) != 3 {
		t.Fatalf("got %d rules, want always, extra-one and extra-two", len(s.Rules))
	}
	if s, err = assemble(files, nil); err != nil || len(s.Rules) != 1 {
		t.Fatalf("without the pack: %d rules, err %v; want 1", len(s.Rules), err)
	}
	if _, err := assemble(files, []string{"nope"}); err == nil {
		t.Fatal("unknown pack accepted")
	}
}
