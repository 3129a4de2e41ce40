/**
 * A fake Tango PCAP publisher: series-start with the arm time, the captured rows in chunks (one
 * list per field, `frame_number` = first row of the chunk), series-end; message_id counts 1, 2, ….
 */

export interface PcapSeriesOptions {
  /** captured rows */
  rows: number;
  /** rows per data message (default 15) */
  chunk?: number;
  /** default 2024-10-07T08:49:10.627Z */
  armTime?: string;
}

/** The fields the emulator captures for row `i`, named as in the beamline capture (protocols.md §4.6). */
export function emulatedPcapRow(i: number): Record<string, number> {
  return {
    inttime: 7 + ((i * 37) % 100) / 100,
    triggernumber: i + 1,
    repeatindex: 1,
    energy: 8879.1 + i * 0.2,
    'INENC3.VAL.Mean': 0,
  };
}

const json = (value: unknown) => [Buffer.from(JSON.stringify(value))];

export function* pcapSeries(options: PcapSeriesOptions): Generator<Buffer[]> {
  const chunk = options.chunk ?? 15;
  let id = 1;
  yield json({ message_id: id++, message_type: 'series-start', version: 1, arm_time: options.armTime ?? '2024-10-07T08:49:10.627Z' });
  for (let first = 0; first < options.rows; first += chunk) {
    const rows = Array.from({ length: Math.min(chunk, options.rows - first) }, (_, k) => emulatedPcapRow(first + k));
    const fields = Object.fromEntries(Object.keys(rows[0]).map((name) => [name, rows.map((row) => row[name])]));
    yield json({ message_id: id++, message_type: 'data', version: 1, frame_number: first, ...fields });
  }
  yield json({ message_id: id, message_type: 'series-end', version: 1 });
}

export function pcapSeriesMessages(options: PcapSeriesOptions): Buffer[][] {
  return [...pcapSeries(options)];
}
