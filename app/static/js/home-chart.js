// The home's chart of amounts due by week, drawn from the table beside it: the table (what a
// screen reader and a browser without JavaScript read) is the source of truth. Loaded on every
// signed-in page (boosted navigations do not run a page's own scripts); Chart.js itself is
// fetched only when a page holds such a table.
(function () {
  "use strict";

  var COLORS = { payables: "#c52f21", receivables: "#0172ad" };

  function readTable(table) {
    var currency = table.getAttribute("data-currency");
    var sides = [];
    table.querySelectorAll("thead th[data-side]").forEach(function (th) {
      if (th.getAttribute("data-currency") === currency) {
        sides.push({ name: th.getAttribute("data-side"), label: th.textContent.trim() });
      }
    });
    var labels = [];
    var values = sides.map(function () { return []; });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var head = row.querySelector("th");
      labels.push(head ? head.textContent.trim() : "");
      sides.forEach(function (side, index) {
        var cell = row.querySelector(
          'td[data-side="' + side.name + '"][data-currency="' + currency + '"]'
        );
        // Drawing only: the amounts shown in words stay the table's exact decimals.
        values[index].push(cell ? Number(cell.getAttribute("data-amount")) || 0 : 0);
      });
    });
    return { currency: currency, labels: labels, sides: sides, values: values };
  }

  function draw(table) {
    var canvas = document.getElementById(table.getAttribute("data-chart-canvas"));
    if (!canvas || typeof window.Chart !== "function") return;
    var data = readTable(table);
    var money;
    try {
      money = new Intl.NumberFormat(document.documentElement.lang || "es", {
        style: "currency",
        currency: data.currency,
        maximumFractionDigits: 0,
      });
    } catch (error) {
      money = new Intl.NumberFormat();
    }
    if (canvas.homeChart) canvas.homeChart.destroy();
    canvas.closest("[data-chart-frame]").hidden = false;
    canvas.homeChart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.sides.map(function (side, index) {
          return {
            label: side.label,
            data: data.values[index],
            backgroundColor: COLORS[side.name] || "#888888",
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          y: { beginAtZero: true, ticks: { callback: function (v) { return money.format(v); } } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + money.format(item.parsed.y);
              },
            },
          },
        },
      },
    });
  }

  function drawAll() {
    var tables = document.querySelectorAll("table[data-home-chart]");
    if (!tables.length) return;
    if (typeof window.Chart !== "function") {
      if (!document.querySelector("script[data-chart-js]")) {
        var script = document.createElement("script");
        script.src = tables[0].getAttribute("data-chart-src");
        script.setAttribute("data-chart-js", "");
        script.addEventListener("load", drawAll);
        document.head.appendChild(script);
      }
      return;
    }
    tables.forEach(draw);
  }

  document.addEventListener("htmx:afterSettle", drawAll);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
