import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, ChartSpecError, renderChart } from '../../adapters/charts/render.ts';
import { byClass, markItems, parseSvg, texts } from '../helpers/svg.ts';

const rows = [
  { fruit: 'apple', kg: 3, shop: 'north' },
  { fruit: 'pear', kg: 5, shop: 'north' },
  { fruit: 'plum', kg: 1, shop: 'south' },
  { fruit: 'fig', kg: 4, shop: 'south' },
  { fruit: 'kiwi', kg: 2, shop: 'east' },
];
const bars = (config?: TopLevelSpec['config']): TopLevelSpec => ({
  name: 'fruit',
  data: { values: rows },
  mark: 'bar',
  encoding: {
    x: { field: 'fruit', type: 'nominal', title: 'fruit' },
    y: { field: 'kg', type: 'quantitative', title: 'weight (kg)' },
    color: { field: 'shop', type: 'nominal', title: 'shop' },
  },
  ...(config ? { config } : {}),
});

describe('renderChart', () => {
  it('draws one mark per row, with axes and a legend from the grammar', async () => {
    const { svg, spec } = await renderChart(bars());
    const root = parseSvg(svg);
    assert.deepEqual(
      markItems(root, 'fruit').map((m) => m.attrs['aria-label']),
      rows.map((r) => `fruit: ${r.fruit}; weight (kg): ${r.kg}; shop: ${r.shop}`),
    );
    assert.deepEqual(texts(root, 'role-axis-title'), ['fruit', 'weight (kg)']);
    assert.deepEqual(texts(root, 'role-legend-label'), ['east', 'north', 'south']);
    // The shared look: its category colours, in the legend's order.
    assert.deepEqual(
      markItems(root, 'fruit').map((m) => m.attrs.fill),
      rows.map((r) => CHART_CONFIG.range.category[['east', 'north', 'south'].indexOf(r.shop)]),
    );
    assert.deepEqual((spec as { data: { values: unknown } }).data.values, rows);
  });

  it("merges a spec's own config into the shared look, setting by setting", async () => {
    const { svg, spec } = await renderChart(bars({ axis: { titleFontSize: 20 } }));
    const config = spec.config as { axis: { titleFontSize: number; gridColor: string } };
    assert.equal(config.axis.titleFontSize, 20);
    assert.equal(config.axis.gridColor, CHART_CONFIG.axis.gridColor, 'the rest of the shared axis look stays');
    const titles = byClass(parseSvg(svg), 'role-axis-title').flatMap((g) => g.children);
    assert.deepEqual(
      titles.map((t) => [t.text, t.attrs['font-size'], t.attrs['font-family']]),
      [
        ['fruit', '20px', 'sans-serif'],
        ['weight (kg)', '20px', 'sans-serif'],
      ],
    );
  });

  describe('draws only the data in its spec', () => {
    let server: ReturnType<typeof createServer>;
    let requests = 0;
    let base = '';
    before(async () => {
      server = createServer((_req, res) => {
        requests++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(rows));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('refuses a spec whose data names a URL or a file, naming the field, and fetches nothing', async () => {
      const fromUrl: TopLevelSpec = {
        layer: [
          { data: { values: rows }, mark: 'bar', encoding: { x: { field: 'fruit', type: 'nominal' } } },
          { data: { url: `${base}/rows.json` }, mark: 'point', encoding: { x: { field: 'fruit', type: 'nominal' } } },
        ],
      };
      await assert.rejects(renderChart(fromUrl), (err: unknown) => {
        assert.ok(err instanceof ChartSpecError);
        assert.equal(err.field, 'layer[1].data.url');
        assert.match(err.message, /^chart spec layer\[1\]\.data\.url: charts draw inline data \(data\.values\) only/);
        return true;
      });
      const fromFile: TopLevelSpec = { data: { url: 'package.json' }, mark: 'point' };
      await assert.rejects(renderChart(fromFile), { name: 'ChartSpecError', field: 'data.url' });
      assert.equal(requests, 0);
    });

    it('loads nothing a mark asks for (an image URL): the render fails, no request is made', async () => {
      const image: TopLevelSpec = {
        data: { values: [{ href: `${base}/logo.png` }] },
        mark: { type: 'image', width: 10, height: 10 },
        encoding: { url: { field: 'href', type: 'nominal' } },
      };
      await assert.rejects(renderChart(image), {
        name: 'ChartSpecError',
        message: `chart spec: loads "${base}/logo.png": charts draw inline data only`,
      });
      assert.equal(requests, 0);
    });
  });
});
