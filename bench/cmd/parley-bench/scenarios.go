package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/bench/internal/dataset"
)

// prepare samples what scenario name needs from the seeded workspace and
// returns the scenario.
func prepare(ctx context.Context, c *client, name string, contacts, sample int, seed uint64, res *loadResult) (scenario, error) {
	needCount := strings.HasPrefix(name, "search-") || name == "get-contact" || name == "update-contact"
	if needCount && contacts <= 0 {
		var page listPage
		if err := c.do(ctx, http.MethodGet, "/contacts?per_page=1", nil, &page); err != nil {
			return nil, fmt.Errorf("counting contacts: %w", err)
		}
		contacts = page.TotalCount
		if contacts == 0 {
			return nil, fmt.Errorf("the workspace has no contacts: run parley-bench seed first")
		}
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	switch name {
	case "get-contact", "update-contact":
		ids, err := sampleIDs(ctx, c, contacts, sample, rng)
		if err != nil {
			return nil, err
		}
		if name == "get-contact" {
			return func(w *worker) call {
				return call{method: http.MethodGet, path: "/contacts/" + ids[w.rng.IntN(len(ids))]}
			}, nil
		}
		withAttrs := hasAttributes(ctx, c)
		return func(w *worker) call {
			body := map[string]any{"name": fmt.Sprintf("Updated %d-%d", w.id, w.seq)}
			if withAttrs {
				body["custom_attributes"] = map[string]any{"seats": 1 + w.rng.IntN(200), "active": w.rng.IntN(2) == 1}
			}
			return call{method: http.MethodPut, path: "/contacts/" + ids[w.rng.IntN(len(ids))], body: mustJSON(body)}
		}, nil
	case "create-contact":
		withAttrs := hasAttributes(ctx, c)
		run := strconv.FormatInt(time.Now().UnixNano()%1e10, 36)
		return func(w *worker) call {
			key := fmt.Sprintf("%s-%d-%d", run, w.id, w.seq)
			body := map[string]any{"role": "user", "email": "load-" + key + "@bench.example.com", "external_id": "load-" + key, "name": "Load Test " + key}
			if withAttrs {
				g := dataset.Gen(w.rng.IntN(1 << 30))
				body["custom_attributes"] = g.CustomAttributes()
			}
			return call{method: http.MethodPost, path: "/contacts", body: mustJSON(body)}
		}, nil
	case "search-email", "search-external-id":
		field, value := "email", dataset.Email
		if name == "search-external-id" {
			field, value = "external_id", dataset.ExternalID
		}
		return func(w *worker) call {
			return call{method: http.MethodPost, path: "/contacts/search", body: mustJSON(map[string]any{
				"query":      map[string]any{"field": field, "operator": "=", "value": value(w.rng.IntN(contacts))},
				"pagination": map[string]any{"per_page": 50},
			})}
		}, nil
	case "search-compound":
		tags := benchTags(ctx, c)
		if len(tags) == 0 {
			res.Note = "no tags in the workspace: the OR branch tests custom_attributes.active = true instead of tag_id"
		}
		return func(w *worker) call {
			var alt map[string]any
			if len(tags) > 0 {
				alt = map[string]any{"field": "tag_id", "operator": "=", "value": tags[w.rng.IntN(len(tags))]}
			} else {
				alt = map[string]any{"field": "custom_attributes.active", "operator": "=", "value": true}
			}
			return call{method: http.MethodPost, path: "/contacts/search", body: mustJSON(compoundQuery(alt))}
		}, nil
	}
	return nil, fmt.Errorf("unknown scenario %q (want one of %s)", name, strings.Join(scenarios, ", "))
}

// compoundQuery is plan = pro AND (alt OR seats > 50), 50 a page.
func compoundQuery(alt map[string]any) map[string]any {
	return map[string]any{
		"query": map[string]any{"operator": "AND", "value": []any{
			map[string]any{"field": "custom_attributes.plan", "operator": "=", "value": "pro"},
			map[string]any{"operator": "OR", "value": []any{
				alt,
				map[string]any{"field": "custom_attributes.seats", "operator": ">", "value": 50},
			}},
		}},
		"pagination": map[string]any{"per_page": 50},
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sampleIDs picks k contacts at random among the seeded ones and resolves
// their ids by external_id; if the workspace was not seeded by parley-bench
// it takes the first k contacts of GET /contacts instead.
func sampleIDs(ctx context.Context, c *client, contacts, k int, rng *rand.Rand) ([]string, error) {
	k = max(1, min(k, contacts))
	picks := make([]int, k)
	for i := range picks {
		picks[i] = rng.IntN(contacts)
	}
	ids := make([]string, k)
	var mu sync.Mutex
	var notFound int
	_, err := parallel(ctx, "sample", k, 16, func(ctx context.Context, i int) error {
		var ct struct {
			ID string `json:"id"`
		}
		err := c.do(ctx, http.MethodGet, "/contacts/find_by_external_id/"+url.PathEscape(dataset.ExternalID(picks[i])), nil, &ct)
		if err != nil {
			mu.Lock()
			notFound++
			stop := notFound > 20 && notFound > i/2
			mu.Unlock()
			if stop {
				return fatalError{err}
			}
			return err
		}
		ids[i] = ct.ID
		return nil
	})
	var found []string
	for _, id := range ids {
		if id != "" {
			found = append(found, id)
		}
	}
	if len(found) >= k/2 {
		return found, nil
	}
	logf("load: only %d of %d sampled external_ids found (%v); taking the first contacts of GET /contacts", len(found), k, err)
	found = found[:0]
	path := "/contacts?per_page=150"
	for len(found) < k {
		var page listPage
		if err := c.do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, fmt.Errorf("listing contacts: %w", err)
		}
		for _, d := range page.Data {
			found = append(found, d.ID)
		}
		if page.Pages.Next == nil || len(page.Data) == 0 {
			break
		}
		path = "/contacts?per_page=150&starting_after=" + url.QueryEscape(page.Pages.Next.StartingAfter)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("the workspace has no contacts: run parley-bench seed first")
	}
	return found, nil
}

// hasAttributes reports whether the seed's custom attributes exist.
func hasAttributes(ctx context.Context, c *client) bool {
	var list struct {
		Data []struct {
			Name   string `json:"name"`
			Custom bool   `json:"custom"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/data_attributes?model=contact", nil, &list); err != nil {
		return false
	}
	want := map[string]bool{}
	for _, a := range dataset.Attributes {
		want[a.Name] = true
	}
	for _, a := range list.Data {
		delete(want, a.Name)
	}
	return len(want) == 0
}

// benchTags returns the ids of the seed's tags (bench-tag-*), or of every
// tag if there are none of those.
func benchTags(ctx context.Context, c *client) []string {
	var list struct {
		Data []struct {
			ID   json.RawMessage `json:"id"` // a numeric string in Intercom; accept a number too
			Name string          `json:"name"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/tags", nil, &list); err != nil {
		logf("load: GET /tags: %v", err)
		return nil
	}
	var bench, all []string
	for _, t := range list.Data {
		id := strings.Trim(string(t.ID), `"`)
		all = append(all, id)
		if strings.HasPrefix(t.Name, "bench-tag-") {
			bench = append(bench, id)
		}
	}
	if len(bench) > 0 {
		return bench
	}
	return all
}
