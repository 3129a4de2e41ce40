// Colour maps as 256-entry RGB tables, interpolated from anchor colours sampled from the
// matplotlib maps of the same names (perceptually uniform, the usual choice for detector images).

const ANCHORS = {
  viridis: ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'],
  magma: ['#000004', '#180f3d', '#440f76', '#721f81', '#9e2f7f', '#cd4071', '#f1605d', '#fd9668', '#feca8d', '#fcfdbf'],
  gray: ['#000000', '#ffffff'],
};

function rgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

function table(anchors) {
  const colours = anchors.map(rgb);
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (colours.length - 1);
    const k = Math.min(colours.length - 2, Math.floor(x));
    const f = x - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = colours[k][c] + (colours[k + 1][c] - colours[k][c]) * f;
  }
  return lut;
}

export const COLORMAPS = Object.fromEntries(Object.entries(ANCHORS).map(([name, anchors]) => [name, table(anchors)]));
