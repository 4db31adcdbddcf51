import { describe, expect, it } from 'vitest';
import type { ChangeResult } from '../../api/types.js';
import { editorReducer, initialEditorState, type EditorState } from './editor.js';
import { newSiteForm } from './site-form.js';

const preview: ChangeResult = {
  changed: false,
  revision: 3,
  diff: { changes: [{ kind: 'site', key: 'a.example.com', op: 'create', fields: [] }] },
  text: '+ site a.example.com',
  edge_tokens: {},
};

const reviewed = (): EditorState =>
  editorReducer(initialEditorState(newSiteForm()), { type: 'reviewed', preview });

describe('the site editor reducer', () => {
  it('drops the reviewed diff on any edit, of a field or of a row', () => {
    expect(reviewed().preview).toBe(preview);
    const edits = [
      { type: 'edit', patch: { domain: 'b.example.com' } },
      { type: 'edit-row', list: 'origins', index: 0, patch: { v4: '192.0.2.1' } },
      { type: 'add-row', list: 'modifiers' },
      { type: 'remove-row', list: 'rules', index: 0 },
    ] as const;
    for (const action of edits) expect(editorReducer(reviewed(), action).preview).toBeNull();
  });

  it('edits one row of one list and leaves the others as they were', () => {
    const start = initialEditorState(newSiteForm());
    const two = editorReducer(start, { type: 'add-row', list: 'origins' });
    const edited = editorReducer(two, {
      type: 'edit-row',
      list: 'origins',
      index: 1,
      patch: { hostname: 'o.example.com', kind: 'hostname' },
    });
    expect(edited.form?.origins.map((o) => [o.kind, o.hostname])).toEqual([
      ['address', ''],
      ['hostname', 'o.example.com'],
    ]);
    expect(edited.form?.rules).toEqual(start.form?.rules);
    const removed = editorReducer(edited, { type: 'remove-row', list: 'origins', index: 0 });
    expect(removed.form?.origins.map((o) => o.hostname)).toEqual(['o.example.com']);
  });

  it('a refusal shows the problems instead of the diff; a passing review clears them', () => {
    const problems = [{ path: 'domain', message: 'must not be empty' }];
    const refused = editorReducer(reviewed(), { type: 'refused', problems });
    expect(refused).toMatchObject({ problems, preview: null });
    expect(editorReducer(refused, { type: 'reviewed', preview }).problems).toEqual([]);
  });

  it('a review clears the last outcome; a save keeps the diff on screen while it runs', () => {
    const failed = editorReducer(reviewed(), { type: 'failed', error: new Error('offline') });
    expect(editorReducer(failed, { type: 'review-started' })).toMatchObject({
      busy: true,
      error: null,
      preview: null,
    });
    const saving = editorReducer(failed, { type: 'save-started' });
    expect(saving).toMatchObject({ busy: true, error: null, preview });
    expect(editorReducer(saving, { type: 'settled' }).busy).toBe(false);
  });

  it('ignores edits until the site has loaded', () => {
    const loading = initialEditorState(null);
    expect(editorReducer(loading, { type: 'edit', patch: { domain: 'x' } })).toBe(loading);
    const loaded = editorReducer(loading, { type: 'loaded', form: newSiteForm() });
    expect(loaded.form?.edges).toBe('*');
  });
});
