package mailbox

import (
	"slices"
	"testing"
	"time"
)

// pageSizes are the Data sizes of entries 1 to 6 in the LoadPage tests.
var pageSizes = []int{10, 10, 10, 50, 5, 5}

func TestLoadPage(t *testing.T) {
	cases := []struct {
		name                 string
		maxEntries, maxBytes int
		want                 [][]uint64 // the pages, in order
	}{
		{name: "no bounds", want: [][]uint64{{1, 2, 3, 4, 5, 6}}},
		{name: "entries only", maxEntries: 4, want: [][]uint64{{1, 2, 3, 4}, {5, 6}}},
		{name: "bytes exactly fit", maxBytes: 30, want: [][]uint64{{1, 2, 3}, {4}, {5, 6}}},
		{name: "bytes one short", maxBytes: 29, want: [][]uint64{{1, 2}, {3}, {4}, {5, 6}}},
		{name: "oversized entry alone", maxBytes: 20, want: [][]uint64{{1, 2}, {3}, {4}, {5, 6}}},
		{name: "one byte", maxBytes: 1, want: [][]uint64{{1}, {2}, {3}, {4}, {5}, {6}}},
		{name: "both bounds", maxEntries: 2, maxBytes: 60, want: [][]uint64{{1, 2}, {3, 4}, {5, 6}}},
		{name: "both bounds, bytes first", maxEntries: 2, maxBytes: 59, want: [][]uint64{{1, 2}, {3}, {4, 5}, {6}}},
	}
	s := openTest(t, Config{})
	for i, n := range pageSizes {
		if err := s.Put("alice", sized(uint64(i+1), "bob", n)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pages [][]uint64
			var after uint64
			for {
				page, err := s.LoadPage("alice", after, tc.maxEntries, tc.maxBytes, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				var ids []uint64
				size := 0
				for _, e := range page {
					ids = append(ids, e.ID)
					size += len(e.Data)
					if e.Sender != "bob" || len(e.Data) != pageSizes[e.ID-1] {
						t.Fatalf("entry %+v", e)
					}
				}
				if tc.maxBytes > 0 && size > tc.maxBytes && len(page) > 1 {
					t.Fatalf("page %v holds %d bytes, over %d", ids, size, tc.maxBytes)
				}
				pages = append(pages, ids)
				after = page[len(page)-1].ID
				if len(pages) > len(pageSizes) {
					t.Fatalf("no progress: pages %v", pages)
				}
			}
			if !slices.EqualFunc(pages, tc.want, slices.Equal) {
				t.Fatalf("pages %v, want %v", pages, tc.want)
			}
		})
	}
	if page, err := s.LoadPage("alice", ^uint64(0), 1, 1, time.Now()); err != nil || len(page) != 0 {
		t.Fatalf("LoadPage(max) = %v, %v", page, err)
	}
	if page, err := s.LoadPage("nobody", 0, 1, 1, time.Now()); err != nil || len(page) != 0 {
		t.Fatalf("LoadPage(nobody) = %v, %v", page, err)
	}
}

// TestLoadPageSkipsExpired: expired entries take no room in a page and are
// dropped.
func TestLoadPageSkipsExpired(t *testing.T) {
	clk := newClock()
	s := openTest(t, Config{MaxAge: testAge}, WithClock(clk.Now))
	old := clk.Now().Add(-2 * testAge)
	for _, e := range []Entry{sized(1, "a", 10), {ID: 2, Stored: old, Data: make([]byte, 10)}, sized(3, "a", 10)} {
		if err := s.Put("alice", e); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.LoadPage("alice", 0, 2, 20, clk.Now())
	if err != nil || len(page) != 2 || page[0].ID != 1 || page[1].ID != 3 {
		t.Fatalf("LoadPage = %+v, %v; want entries 1 and 3", page, err)
	}
	wantCount(t, s, "alice", 2)
	checkFile(t, s)
}
