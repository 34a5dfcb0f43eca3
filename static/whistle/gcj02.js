/*
 * WGS-84 ⇄ GCJ-02 in the browser; the same formulas as whistle/web/gcj02.py (the browser
 * test compares the two). Positions are [longitude, latitude], GeoJSON order.
 *
 * The forward shift is the published GCJ-02 formula on the Krasovsky 1940 ellipsoid; the
 * inverse has no closed form and is solved by fixed-point iteration to about 0.1 mm.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var A = 6378245.0;
  var EE = 0.00669342162296594323;
  var PI = Math.PI;
  var CHINA_BOX = [72.004, 0.8293, 137.8347, 55.8271];

  function inChina(lon, lat) {
    return lon >= CHINA_BOX[0] && lon <= CHINA_BOX[2] && lat >= CHINA_BOX[1] && lat <= CHINA_BOX[3];
  }

  function offsetLat(x, y) {
    var v = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    v += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2 / 3;
    v += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2 / 3;
    v += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y / 30.0 * PI)) * 2 / 3;
    return v;
  }

  function offsetLon(x, y) {
    var v = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    v += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2 / 3;
    v += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2 / 3;
    v += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2 / 3;
    return v;
  }

  function wgs84ToGcj02(lon, lat) {
    if (!inChina(lon, lat)) return [lon, lat];
    var dLat = offsetLat(lon - 105.0, lat - 35.0);
    var dLon = offsetLon(lon - 105.0, lat - 35.0);
    var radLat = lat / 180.0 * PI;
    var w = 1 - EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtW = Math.sqrt(w);
    dLat = dLat * 180.0 / ((A * (1 - EE)) / (w * sqrtW) * PI);
    dLon = dLon * 180.0 / (A / sqrtW * Math.cos(radLat) * PI);
    return [lon + dLon, lat + dLat];
  }

  function gcj02ToWgs84(lon, lat) {
    if (!inChina(lon, lat)) return [lon, lat];
    var guessLon = lon;
    var guessLat = lat;
    for (var i = 0; i < 30; i++) {
      var shifted = wgs84ToGcj02(guessLon, guessLat);
      var errLon = shifted[0] - lon;
      var errLat = shifted[1] - lat;
      guessLon -= errLon;
      guessLat -= errLat;
      if (Math.abs(errLon) < 1e-9 && Math.abs(errLat) < 1e-9) break;
    }
    return [guessLon, guessLat];
  }

  Whistle.gcj02 = { inChina: inChina, fromWgs84: wgs84ToGcj02, toWgs84: gcj02ToWgs84 };
})();
