/*
 * The district pages' charts, drawn with ECharts from the JSON the view renders with
 * json_script (never from JavaScript built in a template):
 *
 *   <div class="chart" data-chart="ranking" data-source="chart-data"></div>
 *
 * "ranking": a horizontal stacked bar per department, in rank order, each part being
 * what that part adds to the total, the department's name wrapped beside its bar (a long
 * name on two lines rather than cut) and whole in the tooltip, shown on the bar and on the
 * name; "trend": each department's monthly total of the year, a month standing alone (no
 * month beside it with a total, as the only month ranked so far) drawn as a filled point
 * with its total written beside it, inside the plot.
 * Charts are drawn again when htmx swaps the page in (the period picker) and resized with
 * the window. A drawn chart gets data-chart-ready="true". No animation: the numbers are
 * what matters, and a growing bar is a moving target for a screenshot or a tired eye.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  // Colours of the design system (static/whistle/whistle.css), strongest first.
  var COLOURS = ["#b3261e", "#0b3f91", "#0f5a3a", "#5b2a8c", "#6b4500", "#3d434b", "#0b57d0", "#8e1b1b"];

  function readData(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (e) {
      return null;
    }
  }

  function fontFamily() {
    return getComputedStyle(document.body).fontFamily;
  }

  // The tooltip drawn on the chart's canvas: ECharts' own HTML tooltip styles its markup
  // with style attributes, which the Content-Security-Policy (style-src 'self') blocks,
  // leaving the values unaligned and their colour markers out.
  function tooltip(extra) {
    var option = { renderMode: "richText", confine: true };
    Object.keys(extra || {}).forEach(function (key) {
      option[key] = extra[key];
    });
    return option;
  }

  // The width of the names beside the bars: a third of the chart, within bounds, so that a
  // long name wraps on two lines on a wide screen and the bars keep room on a phone.
  function nameWidth(el) {
    return Math.max(96, Math.min(200, Math.round(el.clientWidth * 0.32)));
  }

  function rankingOption(data, el) {
    // ECharts draws a category axis bottom-up: reverse so that rank 1 is on top.
    var names = data.departments.slice().reverse();
    var series = data.series.map(function (part, index) {
      return {
        name: part.name,
        type: "bar",
        stack: "total",
        barMaxWidth: 28,
        emphasis: { focus: "series" },
        data: part.data.slice().reverse(),
        label: index === data.series.length - 1 ? {
          show: true,
          position: "right",
          fontWeight: "bold",
          color: "#1b1f24",
          formatter: function (p) {
            var total = data.totals[data.departments.length - 1 - p.dataIndex];
            return total === null ? "" : total.toFixed(2);
          }
        } : { show: false }
      };
    });
    return {
      animation: false,
      color: COLOURS,
      textStyle: { fontFamily: fontFamily() },
      tooltip: tooltip({
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (params) {
          if (!params.length) {
            return "";
          }
          var index = data.departments.length - 1 - params[0].dataIndex;
          var lines = [params[0].name];
          params.forEach(function (p) {
            lines.push(p.seriesName + "  " + (p.value === null ? "—" : Number(p.value).toFixed(2)));
          });
          // Records counted before their summons settled, as "never acted" for now.
          var provisional = (data.provisional || [])[index];
          if (provisional) {
            lines.push(data.labels.provisional.replace("{n}", provisional));
          }
          return lines.join("\n");
        }
      }),
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 56, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: 100, name: data.labels.total, nameLocation: "end" },
      yAxis: {
        type: "category",
        data: names,
        // The name wraps rather than being cut; hovering it shows the tooltip (`nameTips`).
        triggerEvent: true,
        axisLabel: { width: nameWidth(el), overflow: "break", lineHeight: 14 }
      },
      series: series
    };
  }

  // Hovering a department's name shows the same tooltip as its bar: the name whole, and
  // what each part adds.
  function nameTips(chart, data) {
    var names = data.departments.slice().reverse();
    chart.on("mouseover", function (params) {
      if (params.componentType !== "yAxis") return;
      var index = names.indexOf(params.value);
      if (index >= 0) chart.dispatchAction({ type: "showTip", seriesIndex: 0, dataIndex: index });
    });
    chart.on("mouseout", function (params) {
      if (params.componentType === "yAxis") chart.dispatchAction({ type: "hideTip" });
    });
  }

  // Which months' totals have no month beside them with one: they draw no line, so each is
  // drawn as a larger point with its total written beside it, a single month at a glance.
  function aloneMonths(values) {
    return values.map(function (value, i) {
      return value !== null && (i === 0 || values[i - 1] === null) &&
        (i === values.length - 1 || values[i + 1] === null);
    });
  }

  function trendOption(data) {
    var trend = data.trend;
    return {
      animation: false,
      color: COLOURS,
      textStyle: { fontFamily: fontFamily() },
      tooltip: tooltip({ trigger: "axis" }),
      legend: { top: 0, type: "scroll" },
      // The axis's name under the middle of the axis, with room kept for it: at the axis's
      // end it ran off the chart's right edge in English ("Month").
      grid: { left: 8, right: 24, top: 36, bottom: 28, containLabel: true },
      xAxis: {
        type: "category",
        data: trend.ticks,
        // Each month in the middle of its band: the last month's points stand inside the
        // plot, not on its right edge.
        boundaryGap: true,
        name: data.labels.month,
        nameLocation: "middle",
        nameGap: 26
      },
      yAxis: { type: "value", min: 0, max: 100 },
      series: trend.series.map(function (s) {
        var alone = aloneMonths(s.data);
        return {
          name: s.name,
          type: "line",
          connectNulls: false,
          // Filled points, each drawn whatever the number of months.
          symbol: "circle",
          showAllSymbol: true,
          symbolSize: function (value, p) { return alone[p.dataIndex] ? 10 : 7; },
          label: {
            show: true,
            // To the left of the point: the last month's point has little room on its right.
            position: "left",
            formatter: function (p) { return alone[p.dataIndex] ? Number(p.value).toFixed(2) : ""; }
          },
          // Labels of points close together move apart instead of covering one another.
          labelLayout: { moveOverlap: "shiftY" },
          data: s.data
        };
      })
    };
  }

  var OPTIONS = { ranking: rankingOption, trend: trendOption };
  // What a chart does beyond its option: the ranking's tooltips on the names.
  var BINDINGS = { ranking: nameTips };
  var drawn = [];

  function draw(root) {
    if (!window.echarts) return;
    var scope = root && root.querySelectorAll ? root : document;
    var nodes = scope.querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(nodes, function (el) {
      var kind = el.getAttribute("data-chart");
      var make = OPTIONS[kind];
      var data = readData(el.getAttribute("data-source"));
      if (!make || !data) return;
      var existing = window.echarts.getInstanceByDom(el);
      if (existing) existing.dispose();
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      // Listen first: without animation the chart may finish within setOption.
      chart.on("finished", function () {
        el.setAttribute("data-chart-ready", "true");
      });
      chart.setOption(make(data, el));
      if (BINDINGS[kind]) BINDINGS[kind](chart, data);
      drawn.push(chart);
    });
  }

  window.addEventListener("resize", function () {
    drawn = drawn.filter(function (chart) {
      if (chart.isDisposed()) return false;
      chart.resize();
      return true;
    });
  });

  /*
   * The hot-spot map: the cases of the period counted in cells of about 100 m, drawn over
   * the map component as circles, bigger and darker with more cases. Cells come as WGS-84
   * JSON ([{lon, lat, n}]) and go through the map's own toDisplay, so a GCJ-02 base map
   * shifts them like everything else.
   */
  var TONES = [
    { upTo: 1, colour: "#f0a33b", radius: 6 },
    { upTo: 4, colour: "#d4521f", radius: 10 },
    { upTo: Infinity, colour: "#8e1b1b", radius: 15 }
  ];

  function tone(n) {
    for (var i = 0; i < TONES.length; i += 1) {
      if (n <= TONES[i].upTo) return TONES[i];
    }
    return TONES[TONES.length - 1];
  }

  function drawCells(handle, cells, label) {
    var L = window.L;
    var layer = L.featureGroup();
    cells.forEach(function (cell) {
      var p = handle.toDisplay(cell.lon, cell.lat);
      var t = tone(cell.n);
      L.circleMarker(L.latLng(p[1], p[0]), {
        radius: t.radius + Math.min(Math.sqrt(cell.n), 10),
        color: "#ffffff",
        weight: 1,
        fillColor: t.colour,
        fillOpacity: 0.8,
        className: "hotspot-cell"
      })
        .bindTooltip(Whistle.format(label || "%(n)s", { n: cell.n }))
        .addTo(layer);
    });
    layer.addTo(handle.map);
    // The whole district (or township) in view, the cells within it: measured again
    // first, as the box may have settled since the map was made.
    handle.map.invalidateSize({ pan: false });
    var bounds = layer.getBounds();
    if (!handle.fit() && bounds.isValid()) {
      handle.map.fitBounds(bounds.pad(0.8), { maxZoom: 16, animate: false });
    }
    handle.map.getContainer().setAttribute("data-hotspots-drawn", String(cells.length));
  }

  function hotspots(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (!window.L || !Whistle.map) return;
    Array.prototype.forEach.call(scope.querySelectorAll("[data-hotspots]"), function (section) {
      var el = section.querySelector("[data-map]");
      var cells = readData(section.getAttribute("data-source"));
      if (!el || !cells || el._hotspotsDrawn) return;
      el._hotspotsDrawn = true;
      var handle = Whistle.map.create(el);
      if (!handle) return;
      handle.ready.then(function () {
        drawCells(handle, cells, section.getAttribute("data-cell-label"));
      });
    });
  }

  /*
   * The reachability page: the township's lanes from the view's GeoJSON (WGS-84, through
   * the map's own toDisplay), green when a department reaches them in time, red when no
   * one does, and the stations as dark points. Tooltips carry the names and minutes the
   * table shows.
   */
  var REACHED = "#0f5a3a";
  var UNREACHED = "#b3261e";
  var STATION = "#0b3f91";
  var SUGGESTED = "#f0a33b";

  function drawReach(handle, data) {
    var L = window.L;
    var layer = L.featureGroup();
    var lanes = 0;
    (data.features || []).forEach(function (feature) {
      var props = feature.properties || {};
      if (props.kind === "lane") {
        var points = (feature.geometry.coordinates || []).map(function (c) {
          var p = handle.toDisplay(c[0], c[1]);
          return L.latLng(p[1], p[0]);
        });
        var tip = props.name + (props.fastest_minutes === null ? "" : " · " + props.fastest_minutes + " min");
        L.polyline(points, {
          color: props.reached ? REACHED : UNREACHED,
          weight: props.reached ? 4 : 6,
          className: props.reached ? "reach-lane is-reached" : "reach-lane is-unreached"
        }).bindTooltip(tip).addTo(layer);
        lanes += 1;
      } else if (props.kind === "station") {
        var s = handle.toDisplay(feature.geometry.coordinates[0], feature.geometry.coordinates[1]);
        L.circleMarker(L.latLng(s[1], s[0]), {
          radius: 8, color: "#ffffff", weight: 2, fillColor: STATION, fillOpacity: 1,
          className: "reach-station"
        }).bindTooltip(props.name).addTo(layer);
      } else if (props.kind === "suggestion" || props.kind === "move") {
        var q = handle.toDisplay(feature.geometry.coordinates[0], feature.geometry.coordinates[1]);
        L.circleMarker(L.latLng(q[1], q[0]), {
          radius: 9, color: "#5c3b00", weight: 2, dashArray: "3 2", fillColor: SUGGESTED, fillOpacity: 0.9,
          className: "reach-" + props.kind
        }).bindTooltip(props.name + " → " + (props.covers || []).join("、")).addTo(layer);
      }
    });
    layer.addTo(handle.map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) handle.map.fitBounds(bounds.pad(0.2), { maxZoom: 16, animate: false });
    handle.map.getContainer().setAttribute("data-reach-drawn", String(lanes));
  }

  function reachMaps(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (!window.L || !Whistle.map) return;
    Array.prototype.forEach.call(scope.querySelectorAll("[data-reach-map]"), function (section) {
      var el = section.querySelector("[data-map]");
      var data = readData(section.getAttribute("data-source"));
      if (!el || !data || el._reachDrawn) return;
      el._reachDrawn = true;
      var handle = Whistle.map.create(el);
      if (!handle) return;
      handle.ready.then(function () {
        drawReach(handle, data);
      });
    });
  }

  function init(root) {
    draw(root);
    hotspots(root);
    reachMaps(root);
  }

  Whistle.charts = { draw: draw };
  if (Whistle.onInit) Whistle.onInit(init);
  else document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
