// The site editor's state and every change to it, as one reducer: the form, what the last
// check found (problems by path, or the diff to save), and where a request stands. Pure, so
// the rules ("an edit drops the reviewed diff", "a refusal shows the problems instead") hold
// whichever section made the change.
import type { ApiProblem } from '../../api/client.js';
import type { ChangeResult } from '../../api/types.js';
import {
  emptyAccessRule,
  emptyIpList,
  ipListRows,
  emptyModifier,
  emptyOrigin,
  emptyRateLimit,
  emptyRule,
  emptySiteNetworks,
  type AccessRuleForm,
  type CacheRuleForm,
  type IpListForm,
  type ModifierForm,
  type OriginForm,
  type RateLimitForm,
  type SiteForm,
  type SiteNetworksForm,
} from './site-form.js';

export interface EditorState {
  /** null while the site loads. */
  form: SiteForm | null;
  loadError: unknown;
  /** What the API found wrong, by field path; shown above the form and beside each field. */
  problems: ApiProblem[];
  /** The reviewed change (a dry run's diff); any edit drops it. */
  preview: ChangeResult | null;
  /** A failure that names no field (network, conflict, …). */
  error: unknown;
  busy: boolean;
  confirmDelete: boolean;
}

/** The form's lists of rows, each with its own row type. */
export interface FormLists {
  origins: OriginForm;
  rules: CacheRuleForm;
  modifiers: ModifierForm;
  access_rules: AccessRuleForm;
  rate_limits: RateLimitForm;
  ip_lists: IpListForm;
  networks: SiteNetworksForm;
}
export type ListName = keyof FormLists;

type RowPatch = {
  [L in ListName]: { type: 'edit-row'; list: L; index: number; patch: Partial<FormLists[L]> };
}[ListName];

export type EditorAction =
  | { type: 'loaded'; form: SiteForm }
  | { type: 'load-failed'; error: unknown }
  /** The state's named IP lists, read after the site (they are not part of it). */
  | { type: 'lists-loaded'; lists: Record<string, string[]> }
  | { type: 'edit'; patch: Partial<SiteForm> }
  | RowPatch
  | { type: 'add-row'; list: ListName }
  | { type: 'remove-row'; list: ListName; index: number }
  /** A check starts: the last outcome is cleared. */
  | { type: 'review-started' }
  /** A save or a delete starts: the reviewed diff stays on screen while it runs. */
  | { type: 'save-started' }
  | { type: 'reviewed'; preview: ChangeResult }
  | { type: 'refused'; problems: ApiProblem[] }
  | { type: 'failed'; error: unknown }
  | { type: 'settled' }
  | { type: 'keep-editing' }
  | { type: 'confirm-delete'; ask: boolean };

export function initialEditorState(form: SiteForm | null): EditorState {
  return {
    form,
    loadError: null,
    problems: [],
    preview: null,
    error: null,
    busy: false,
    confirmDelete: false,
  };
}

const NEW_ROW: { [L in ListName]: () => FormLists[L] } = {
  origins: emptyOrigin,
  rules: emptyRule,
  modifiers: emptyModifier,
  access_rules: emptyAccessRule,
  rate_limits: emptyRateLimit,
  ip_lists: emptyIpList,
  networks: emptySiteNetworks,
};

function patchRow<T>(rows: T[], index: number, patch: Partial<T>): T[] {
  return rows.map((row, i) => (i === index ? { ...row, ...patch } : row));
}

/** A change of the form: applied, and the reviewed diff (now stale) dropped. */
function edited(state: EditorState, change: (form: SiteForm) => SiteForm): EditorState {
  if (!state.form) return state;
  return { ...state, form: change(state.form), preview: null };
}

export function editorReducer(state: EditorState, action: EditorAction): EditorState {
  switch (action.type) {
    case 'loaded':
      return { ...state, form: action.form, loadError: null };
    case 'load-failed':
      return { ...state, loadError: action.error };
    case 'lists-loaded':
      if (!state.form) return state;
      return {
        ...state,
        form: { ...state.form, ip_lists: ipListRows(action.lists), ip_lists_before: action.lists },
      };
    case 'edit':
      return edited(state, (f) => ({ ...f, ...action.patch }));
    case 'edit-row': {
      // One case per list keeps each row's patch typed as its own row.
      const a = action;
      if (a.list === 'origins')
        return edited(state, (f) => ({ ...f, origins: patchRow(f.origins, a.index, a.patch) }));
      if (a.list === 'rules')
        return edited(state, (f) => ({ ...f, rules: patchRow(f.rules, a.index, a.patch) }));
      if (a.list === 'access_rules')
        return edited(state, (f) => ({
          ...f,
          access_rules: patchRow(f.access_rules, a.index, a.patch),
        }));
      if (a.list === 'ip_lists')
        return edited(state, (f) => ({ ...f, ip_lists: patchRow(f.ip_lists, a.index, a.patch) }));
      if (a.list === 'networks')
        return edited(state, (f) => ({ ...f, networks: patchRow(f.networks, a.index, a.patch) }));
      if (a.list === 'rate_limits')
        return edited(state, (f) => ({
          ...f,
          rate_limits: patchRow(f.rate_limits, a.index, a.patch),
        }));
      return edited(state, (f) => ({ ...f, modifiers: patchRow(f.modifiers, a.index, a.patch) }));
    }
    case 'add-row':
      return edited(state, (f) => ({
        ...f,
        [action.list]: [...f[action.list], NEW_ROW[action.list]()],
      }));
    case 'remove-row':
      return edited(state, (f) => ({
        ...f,
        [action.list]: (f[action.list] as unknown[]).filter((_, i) => i !== action.index),
      }));
    case 'review-started':
      return { ...state, busy: true, error: null, preview: null };
    case 'save-started':
      return { ...state, busy: true, error: null };
    case 'reviewed':
      return { ...state, problems: [], preview: action.preview };
    case 'refused':
      return { ...state, problems: action.problems, preview: null };
    case 'failed':
      return { ...state, error: action.error };
    case 'settled':
      return { ...state, busy: false };
    case 'keep-editing':
      return { ...state, preview: null };
    case 'confirm-delete':
      return { ...state, confirmDelete: action.ask };
  }
}
