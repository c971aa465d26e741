package deflate

import (
	"errors"
	"fmt"
)

// puff is a small, slow DEFLATE decoder (after zlib's contrib/puff) that
// reports the longest back-reference distance a stream uses: the check
// that a stream compressed for a window of 2^bits bytes never reaches
// further back, which no ordinary inflater verifies (they all keep 32 KiB).

type puffState struct {
	in     []byte
	bitbuf uint32
	bitcnt uint
	pos    int
	out    []byte
	// maxDist is the longest distance seen.
	maxDist int
}

var errPuffInput = errors.New("puff: out of input")

func (s *puffState) bits(need uint) (int, error) {
	val := s.bitbuf
	for s.bitcnt < need {
		if s.pos == len(s.in) {
			return 0, errPuffInput
		}
		val |= uint32(s.in[s.pos]) << s.bitcnt
		s.pos++
		s.bitcnt += 8
	}
	s.bitbuf = val >> need
	s.bitcnt -= need
	return int(val & (1<<need - 1)), nil
}

type puffHuff struct {
	count  [16]int
	symbol []int
}

func newPuffHuff(lengths []int) *puffHuff {
	h := &puffHuff{symbol: make([]int, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = sym
			offs[l]++
		}
	}
	return h
}

func (s *puffState) decode(h *puffHuff) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l <= 15; l++ {
		b, err := s.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		count := h.count[l]
		if code-count < first {
			return h.symbol[index+(code-first)], nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, errors.New("puff: bad code")
}

var (
	puffLBase = []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	puffLExt  = []uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	puffDBase = []int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	puffDExt  = []uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	puffOrder = []int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func (s *puffState) codes(lencode, distcode *puffHuff) error {
	for {
		sym, err := s.decode(lencode)
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			s.out = append(s.out, byte(sym))
			continue
		case sym == 256:
			return nil
		}
		sym -= 257
		if sym >= 29 {
			return errors.New("puff: bad length symbol")
		}
		e, err := s.bits(puffLExt[sym])
		if err != nil {
			return err
		}
		length := puffLBase[sym] + e
		dsym, err := s.decode(distcode)
		if err != nil {
			return err
		}
		if dsym >= 30 {
			return errors.New("puff: bad distance symbol")
		}
		e, err = s.bits(puffDExt[dsym])
		if err != nil {
			return err
		}
		dist := puffDBase[dsym] + e
		if dist > len(s.out) {
			return fmt.Errorf("puff: distance %d before the start", dist)
		}
		s.maxDist = max(s.maxDist, dist)
		for range length {
			s.out = append(s.out, s.out[len(s.out)-dist])
		}
	}
}

func (s *puffState) dynamic() error {
	nlen, err := s.bits(5)
	if err != nil {
		return err
	}
	ndist, _ := s.bits(5)
	ncode, err := s.bits(4)
	if err != nil {
		return err
	}
	nlen, ndist, ncode = nlen+257, ndist+1, ncode+4
	lengths := make([]int, 19)
	for i := range ncode {
		if lengths[puffOrder[i]], err = s.bits(3); err != nil {
			return err
		}
	}
	lencode := newPuffHuff(lengths)
	all := make([]int, 0, nlen+ndist)
	for len(all) < nlen+ndist {
		sym, err := s.decode(lencode)
		if err != nil {
			return err
		}
		if sym < 16 {
			all = append(all, sym)
			continue
		}
		l, rep := 0, 0
		switch sym {
		case 16:
			if len(all) == 0 {
				return errors.New("puff: repeat with no first length")
			}
			l = all[len(all)-1]
			rep, err = s.bits(2)
			rep += 3
		case 17:
			rep, err = s.bits(3)
			rep += 3
		default:
			rep, err = s.bits(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		for range rep {
			all = append(all, l)
		}
	}
	return s.codes(newPuffHuff(all[:nlen]), newPuffHuff(all[nlen:nlen+ndist]))
}

func (s *puffState) fixed() error {
	lengths := make([]int, 288)
	for i := range lengths {
		switch {
		case i < 144:
			lengths[i] = 8
		case i < 256:
			lengths[i] = 9
		case i < 280:
			lengths[i] = 7
		default:
			lengths[i] = 8
		}
	}
	dist := make([]int, 30)
	for i := range dist {
		dist[i] = 5
	}
	return s.codes(newPuffHuff(lengths), newPuffHuff(dist))
}

func (s *puffState) stored() error {
	s.bitbuf, s.bitcnt = 0, 0
	if s.pos+4 > len(s.in) {
		return errPuffInput
	}
	n := int(s.in[s.pos]) | int(s.in[s.pos+1])<<8
	if ^n&0xffff != int(s.in[s.pos+2])|int(s.in[s.pos+3])<<8 {
		return errors.New("puff: stored length does not match its complement")
	}
	s.pos += 4
	if s.pos+n > len(s.in) {
		return errPuffInput
	}
	s.out = append(s.out, s.in[s.pos:s.pos+n]...)
	s.pos += n
	return nil
}

// puff inflates one permessage-deflate payload and returns the message and
// the longest distance it uses.
func puff(payload []byte) ([]byte, int, error) {
	s := &puffState{in: append(append([]byte(nil), payload...), end...)}
	for {
		last, err := s.bits(1)
		if err != nil {
			return nil, 0, err
		}
		typ, err := s.bits(2)
		if err != nil {
			return nil, 0, err
		}
		switch typ {
		case 0:
			err = s.stored()
		case 1:
			err = s.fixed()
		case 2:
			err = s.dynamic()
		default:
			err = errors.New("puff: reserved block type")
		}
		if err != nil {
			return nil, 0, err
		}
		if last == 1 {
			return s.out, s.maxDist, nil
		}
	}
}
