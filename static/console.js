// Console behaviour without inline handlers (the Content-Security-Policy forbids them).
"use strict";

// A form with data-confirm asks before it is sent.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset ? event.target.dataset.confirm : undefined;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// On a phone a table stacks into one card per row (console.css): each cell is labelled with its column's header.
// A cell that has its own data-label keeps it; a header cell spanning columns labels each of them.
for (const table of document.querySelectorAll("table")) {
  const labels = [];
  for (const header of table.querySelectorAll(":scope > thead > tr:first-child > th")) {
    for (let span = 0; span < header.colSpan; span += 1) {
      labels.push(header.textContent.trim().replace(/\s+/g, " "));
    }
  }
  if (!labels.length) {
    continue;
  }
  for (const row of table.querySelectorAll(":scope > tbody > tr")) {
    let column = 0;
    for (const cell of row.cells) {
      if (!cell.hasAttribute("data-label")) {
        cell.dataset.label = labels[column] || "";
      }
      column += cell.colSpan;
    }
  }
}
