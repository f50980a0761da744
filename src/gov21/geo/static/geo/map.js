// Starts every shared map on the page (gov21.geo.maps): each [data-geo-map] holds the map drawn on
// the server (an SVG), the page's features as JSON data, and the address of the platform's style.
// When MapLibre loads and WebGL works, a map of the platform's own vector tiles takes the SVG's
// place; otherwise nothing changes and the SVG and the table remain. No inline script: the page's
// Content-Security-Policy allows only scripts from the platform.

const figures = Array.from(document.querySelectorAll("[data-geo-map]"));

function fallback(figure, reason) {
  const canvas = figure.querySelector(".geo-map-canvas");
  if (canvas) canvas.remove();
  figure.dataset.geoMap = "svg";
  figure.dataset.geoMapReason = String(reason);
}

function pageLayers(map, data) {
  map.addSource("page", { type: "geojson", data });
  const polygons = ["==", ["geometry-type"], "Polygon"];
  map.addLayer({
    id: "page-fill",
    type: "fill",
    source: "page",
    filter: polygons,
    paint: { "fill-color": "#1d70b8", "fill-opacity": 0.25 },
  });
  map.addLayer({
    id: "page-line",
    type: "line",
    source: "page",
    filter: ["in", ["geometry-type"], ["literal", ["Polygon", "LineString"]]],
    paint: { "line-color": "#0b0c0c", "line-width": 2 },
  });
  map.addLayer({
    id: "page-point",
    type: "circle",
    source: "page",
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-color": "#1d70b8", "circle-radius": 6, "circle-stroke-color": "#0b0c0c", "circle-stroke-width": 1 },
  });
}

// A form's map (data-geo-pick="<latitude input id> <longitude input id>"): a click places the marker
// and fills the two inputs, which remain the way to give a position without script or a pointer.
function pickPlace(maplibregl, map, ids) {
  const [latInput, lonInput] = ids.split(" ").map((id) => document.getElementById(id));
  if (!latInput || !lonInput) return;
  let marker = null;
  const place = (lngLat) => {
    if (marker) marker.setLngLat(lngLat);
    else marker = new maplibregl.Marker({ color: "#d4351c" }).setLngLat(lngLat).addTo(map);
  };
  if (latInput.value && lonInput.value && !isNaN(+latInput.value) && !isNaN(+lonInput.value)) {
    place([+lonInput.value, +latInput.value]);
  }
  map.getCanvas().style.cursor = "crosshair";
  map.on("click", (event) => {
    latInput.value = event.lngLat.lat.toFixed(6);
    lonInput.value = event.lngLat.lng.toFixed(6);
    place(event.lngLat);
    for (const input of [latInput, lonInput]) input.dispatchEvent(new Event("change", { bubbles: true }));
  });
}

function draw(maplibregl, figure) {
  const data = JSON.parse(figure.querySelector('script[type="application/json"]').textContent);
  const canvas = figure.querySelector(".geo-map-canvas");
  const svg = figure.querySelector("svg.geo-map");
  canvas.hidden = false;
  canvas.style.width = "100%";
  canvas.style.height = svg ? `${Math.max(240, Math.min(480, svg.getBoundingClientRect().height))}px` : "320px";
  const style = new URL(figure.dataset.style, document.baseURI).href;
  const shown = figure.dataset.collections === undefined ? null : figure.dataset.collections.split(",").filter(Boolean);
  const options = { container: canvas, style, attributionControl: { compact: true }, maxZoom: 20 };
  if (data.bbox) {
    options.bounds = [[data.bbox[0], data.bbox[1]], [data.bbox[2], data.bbox[3]]];
    options.fitBoundsOptions = { padding: 24, maxZoom: 17 };
  }
  const map = new maplibregl.Map(options);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  map.on("error", (event) => {
    figure.dataset.geoMapError = String(event.error && event.error.message);
  });
  map.on("load", () => {
    for (const layer of map.getStyle().layers) {
      const owner = layer.metadata && layer.metadata["gov21:collection"];
      if (owner && shown !== null && !shown.includes(owner)) map.setLayoutProperty(layer.id, "visibility", "none");
    }
    if (figure.dataset.raster) {
      const raster = new URL(figure.dataset.raster, document.baseURI).href;
      map.addSource("imagery", { type: "raster", tiles: [raster], tileSize: 256 });
      map.addLayer({ id: "imagery", type: "raster", source: "imagery" }, map.getStyle().layers[1]?.id);
    }
    pageLayers(map, data);
    for (const id of ["page-fill", "page-point"]) {
      map.on("click", id, (event) => {
        const href = event.features[0]?.properties?.href;
        if (href) window.location.assign(href);
      });
      map.on("mouseenter", id, () => (map.getCanvas().style.cursor = "pointer"));
      map.on("mouseleave", id, () => (map.getCanvas().style.cursor = ""));
    }
    if (figure.dataset.geoPick) pickPlace(maplibregl, map, figure.dataset.geoPick);
    // The map shows what the SVG showed; the table (and each feature's page) keeps every link.
    if (svg) svg.style.display = "none";
    figure.dataset.geoMap = "maplibre";
  });
}

async function start() {
  let maplibregl;
  try {
    maplibregl = await import("./maplibre-gl.mjs");
  } catch (error) {
    figures.forEach((figure) => fallback(figure, error));
    return;
  }
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("./maplibre-gl.css", import.meta.url).href;
  document.head.append(css);
  for (const figure of figures) {
    try {
      draw(maplibregl, figure);
    } catch (error) {
      // No WebGL, or a browser MapLibre does not support: the server's map stays.
      fallback(figure, error);
    }
  }
}

if (figures.length > 0) start();
