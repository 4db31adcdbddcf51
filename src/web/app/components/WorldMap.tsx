// Edges on a world map: an inline SVG in the equirectangular projection (x = lon, y = lat),
// placed from each edge's `meta.latlong`. No tiles, nothing fetched.
import { Trans, useTranslation } from 'react-i18next';
import type { Edge, EdgeStatus } from '../api/types.js';
import { navigate } from '../router.js';
import { LAND_PATH } from './land.js';

const TONE: Record<string, string> = { up: 'good', degraded: 'warn', down: 'bad' };

function tone(status: EdgeStatus | undefined): string {
  if (!status) return 'muted';
  if (status.paused) return 'muted';
  if (status.health !== 'unknown') return TONE[status.health] ?? 'muted';
  if (status.state === 'ok') return 'good';
  if (status.state === 'pending') return 'warn';
  if (status.state === 'error' || status.state === 'offline') return 'bad';
  return 'muted';
}

export function WorldMap(props: { edges: Edge[]; status: EdgeStatus[] }) {
  const { t } = useTranslation();
  const unknown = t('state.unknown');
  const placed = props.edges.filter((e) => e.meta.latlong !== undefined);
  const unplaced = props.edges.length - placed.length;
  return (
    <figure className="world-map" data-testid="world-map">
      <svg viewBox="0 8 360 150" role="img" aria-label={t('map.label', { count: placed.length })}>
        <rect x="0" y="0" width="360" height="180" className="map-sea" />
        {[-60, -30, 0, 30, 60].map((lat) => (
          <line key={lat} x1="0" x2="360" y1={90 - lat} y2={90 - lat} className="map-grid" />
        ))}
        {[-120, -60, 0, 60, 120].map((lon) => (
          <line key={lon} y1="0" y2="180" x1={lon + 180} x2={lon + 180} className="map-grid" />
        ))}
        <path d={LAND_PATH} className="map-land" />
        {placed.map((e) => {
          const [lat, lon] = e.meta.latlong as [number, number];
          const s = props.status.find((x) => x.name === e.name);
          return (
            <g
              key={e.name}
              className={`map-edge ${tone(s)}`}
              transform={`translate(${lon + 180} ${90 - lat})`}
              data-testid={`map-edge-${e.name}`}
              role="link"
              tabIndex={0}
              aria-label={t('map.edge', { name: e.name, state: s?.health ?? s?.state ?? unknown })}
              onClick={() => navigate(`/edges/${encodeURIComponent(e.name)}`)}
              onKeyDown={(ev) => {
                if (ev.key === 'Enter') navigate(`/edges/${encodeURIComponent(e.name)}`);
              }}
            >
              <circle r="5" className="map-halo" />
              <circle r="2.4" />
              <text x="4" y="-4">
                {e.name}
              </text>
              <title>{`${e.name} (${lat}, ${lon}): ${s?.health ?? unknown}, ${s?.state ?? unknown}`}</title>
            </g>
          );
        })}
      </svg>
      {unplaced > 0 ? (
        <figcaption>
          <Trans i18nKey="map.unplaced" count={unplaced} components={{ code: <code /> }} />
        </figcaption>
      ) : null}
    </figure>
  );
}
