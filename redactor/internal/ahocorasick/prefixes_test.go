package ahocorasick

import "testing"

// TestTrieSizedToDistinctPrefixes checks that the preallocated trie holds
// exactly one node per distinct prefix (duplicates, entries that are
// prefixes of others, shared prefixes) and that matching still works.
func TestTrieSizedToDistinctPrefixes(t *testing.T) {
	dict := []string{"password", "pass", "passwd", "pass", "token", "to", "x", "apikey", "api_key"}
	m := NewStringMatcher(dict)
	// root + p,pa,pas,pass,passw,passwo,passwor,password,passwd
	// + t,to,tok,toke,token + x + a,ap,api,apik,apike,apikey,api_,api_k,api_ke,api_key
	const want = 1 + 9 + 5 + 1 + 10
	if got := len(m.trie); got != want {
		t.Fatalf("trie has %d nodes, want %d", got, want)
	}
	if got := cap(m.trie); got != want {
		t.Fatalf("trie capacity %d, want %d (preallocated exactly)", got, want)
	}
	if got := m.Match([]byte("my api_key and passwd")); len(got) != 3 {
		t.Fatalf("Match = %v, want api_key, pass and passwd", got)
	}
}
