package testkit

import (
	"context"
	"fmt"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// a11yScan marks every visible control of the page with data-a11y and
// returns the problems found without moving focus: controls with no
// accessible name, and controls taken out of the tab order.
const a11yScan = `(() => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]';
  const probs = [];
  let n = 0;
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '') + ' "' + (el.textContent || el.value || '').trim().slice(0, 40) + '"';
  for (const el of document.querySelectorAll(sel)) {
    el.removeAttribute('data-a11y');
    if (el.disabled || el.closest('[inert]')) continue;
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if ((r.width === 0 && r.height === 0) || cs.visibility === 'hidden' || cs.display === 'none') continue;
    if (el.checkVisibility && !el.checkVisibility()) continue; // e.g. inside a closed <details>
    if (el.getAttribute('tabindex') === '-1' && el.tagName !== 'MAIN') { probs.push(describe(el) + ': taken out of the tab order (tabindex=-1)'); continue; }
    let name = (el.getAttribute('aria-label') || '').trim();
    if (!name && el.getAttribute('aria-labelledby')) name = el.getAttribute('aria-labelledby').split(/\s+/).map(id => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
    if (!name && el.labels) name = Array.from(el.labels).map(l => l.textContent).join(' ').trim();
    if (!name && /^(A|BUTTON|SUMMARY)$/.test(el.tagName)) name = (el.innerText || el.textContent || '').trim() || Array.from(el.querySelectorAll('img[alt]')).map(i => i.alt).join(' ').trim();
    if (!name && el.tagName === 'INPUT' && /^(submit|button|reset)$/.test(el.type)) name = (el.value || '').trim();
    if (!name) name = (el.getAttribute('title') || '').trim();
    if (!name) probs.push(describe(el) + ': no accessible name (label, aria-label or text)');
    el.setAttribute('data-a11y', String(n++));
  }
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  window.scrollTo(0, 0);
  return {n, probs};
})()`

// a11yFocused reports which marked control has focus and whether focus is
// visible on it (an outline or a box shadow).
const a11yFocused = `(() => {
  const a = document.activeElement;
  if (!a || !a.hasAttribute('data-a11y')) return {i: -1, visible: true, what: a ? a.tagName : ''};
  const cs = getComputedStyle(a);
  const visible = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || (cs.boxShadow && cs.boxShadow !== 'none');
  return {i: Number(a.getAttribute('data-a11y')), visible, what: a.tagName.toLowerCase() + (a.id ? '#' + a.id : '') + ' "' + (a.textContent || a.value || '').trim().slice(0, 40) + '"'};
})()`

// A11y checks the accessibility basics of the page open in ctx, as a
// keyboard user meets them: every visible control has an accessible name,
// pressing Tab reaches every one of them, and the focused control shows a
// visible focus indicator. It returns one line per problem (none: nil).
// Focus is moved by real Tab key presses, so :focus-visible applies.
func A11y(ctx context.Context) ([]string, error) {
	type scanned struct {
		N     int      `json:"n"`
		Probs []string `json:"probs"`
	}
	scan, err := chromedp.Run(ctx, chromedp.Evaluate[scanned](a11yScan))
	if err != nil {
		return nil, err
	}
	probs := scan.Probs
	reached := make([]bool, scan.N)
	left := scan.N
	for i := 0; i < scan.N+10 && left > 0; i++ {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			return nil, err
		}
		f, err := chromedp.Run(ctx, chromedp.Evaluate[focused](a11yFocused))
		if err != nil {
			return nil, err
		}
		if f.I < 0 || f.I >= len(reached) || reached[f.I] {
			continue
		}
		reached[f.I] = true
		left--
		if !f.Visible {
			probs = append(probs, f.What+": no visible focus indicator")
		}
	}
	if left > 0 {
		missed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`(() => { const r = %s; return Array.from(document.querySelectorAll('[data-a11y]')).filter(e => !r.includes(Number(e.getAttribute('data-a11y')))).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "' + (e.textContent || e.value || '').trim().slice(0, 40) + '": not reachable with Tab'); })()`, reachedJSON(reached))))
		if err != nil {
			return nil, err
		}
		probs = append(probs, missed...)
	}
	return probs, nil
}

type focused struct {
	I       int    `json:"i"`
	Visible bool   `json:"visible"`
	What    string `json:"what"`
}

func reachedJSON(reached []bool) string {
	s := "["
	for i, ok := range reached {
		if ok {
			if len(s) > 1 {
				s += ","
			}
			s += fmt.Sprint(i)
		}
	}
	return s + "]"
}
