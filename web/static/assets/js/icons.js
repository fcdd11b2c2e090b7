// The UI's own icons as SVG built in the DOM: no emoji (they render as empty boxes where no emoji
// font is installed, as on many office and kiosk machines) and no icon font. Each icon draws in
// currentColor, so that high-contrast and colour themes apply to it; it is decorative
// (aria-hidden), the text beside it names it.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

// The mouth of each level's face: a smile that flattens and turns down from very satisfied to very dissatisfied.
const MOUTHS = {
  very_satisfied: 'M7 14 Q12 20 17 14',
  satisfied: 'M8 14.5 Q12 17.5 16 14.5',
  basically_satisfied: 'M8 15.5 L16 15.5',
  dissatisfied: 'M8 16.5 Q12 13.5 16 16.5',
  very_dissatisfied: 'M7 17.5 Q12 11.5 17 17.5',
};

/** A face for a rating level, size px wide (CSS may scale it in rem). */
export function levelIcon(level, size = 32) {
  const svg = el('svg', { viewBox: '0 0 24 24', width: size, height: size, 'aria-hidden': 'true', focusable: 'false', class: 'icon icon-level' });
  svg.append(el('circle', { cx: 12, cy: 12, r: 10.5, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.6 }));
  svg.append(el('circle', { cx: 8.5, cy: 9.5, r: 1.3, fill: 'currentColor' }));
  svg.append(el('circle', { cx: 15.5, cy: 9.5, r: 1.3, fill: 'currentColor' }));
  if (level === 'very_dissatisfied') {
    // Frowning brows.
    svg.append(el('path', { d: 'M6.5 6.5 L10 8 M17.5 6.5 L14 8', stroke: 'currentColor', 'stroke-width': 1.4, 'stroke-linecap': 'round', fill: 'none' }));
  }
  svg.append(el('path', { d: MOUTHS[level] || MOUTHS.basically_satisfied, stroke: 'currentColor', 'stroke-width': 1.8, 'stroke-linecap': 'round', fill: 'none' }));
  return svg;
}

/** A bell (the notification centre). */
export function bellIcon(size = 20) {
  const svg = el('svg', { viewBox: '0 0 24 24', width: size, height: size, 'aria-hidden': 'true', focusable: 'false', class: 'icon icon-bell' });
  svg.append(el('path', { d: 'M6 16 V11 a6 6 0 0 1 12 0 V16 l1.5 2 H4.5 Z', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.8, 'stroke-linejoin': 'round' }));
  svg.append(el('path', { d: 'M10 20.5 a2 2 0 0 0 4 0', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.8 }));
  return svg;
}
