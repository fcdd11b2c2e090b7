package api

import (
	"sync"
)

// publicAnswers keeps the signed answers of the public results page. Publications are stored
// once and never changed (a correction is a new version), so an answer is exact for as long
// as the stamp of the rows it was built from — their count and highest id (publish.Stamp) —
// is the same; the stamp is read on every request, so a new version or a moved code is
// served at once, by every process. Building the answer
// decodes and encodes every published figure (1.6 MB for a city of 1 010 units) and signs it:
// 84 ms at the scale point, against a small query for the stamp (BENCHMARKS.md, point 9).
type publicAnswers struct {
	mu      sync.Mutex
	entries map[publicKey]publicAnswer
	size    int // bytes of the bodies held
	// budget bounds size: the page is anonymous, so its keys are the public's to choose.
	budget int
	builds int // answers built, for the tests
}

type publicKey struct{ month, code string }

type publicAnswer struct {
	stamp     string
	body      []byte
	signature string // the signature header's value, "" when nothing is signed
}

const publicAnswersBudget = 32 << 20

// get answers the kept answer of key when it was built at stamp.
func (p *publicAnswers) get(k publicKey, stamp string) (publicAnswer, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.entries[k]
	if !ok || a.stamp != stamp {
		return publicAnswer{}, false
	}
	return a, true
}

// put keeps a built answer, dropping others (any: the map's order) while the budget is
// exceeded; an answer larger than the whole budget is not kept.
func (p *publicAnswers) put(k publicKey, a publicAnswer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.builds++
	budget := p.budget
	if budget <= 0 {
		budget = publicAnswersBudget
	}
	if len(a.body) > budget {
		return
	}
	if p.entries == nil {
		p.entries = map[publicKey]publicAnswer{}
	}
	if old, ok := p.entries[k]; ok {
		p.size -= len(old.body)
		delete(p.entries, k)
	}
	for other, o := range p.entries {
		if p.size+len(a.body) <= budget {
			break
		}
		p.size -= len(o.body)
		delete(p.entries, other)
	}
	p.entries[k] = a
	p.size += len(a.body)
}
