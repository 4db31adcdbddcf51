// A new edge token and its join command, shown once with copy buttons.
import { CopyButton } from '../../components/display.js';

/** A token is shown once: here, with copy buttons, until dismissed. */
export function TokenOnce(props: {
  title: string;
  token: string;
  join: string;
  onDone: () => void;
}) {
  return (
    <section className="card secret" data-testid="token-once" aria-live="polite">
      <h2>{props.title}</h2>
      <p>
        This token is shown <strong>once</strong>; the control plane keeps only its hash. Run the
        join command on the edge (it asks for the token and writes it to a 0600 file).
      </p>
      <div className="field">
        <label htmlFor="edge-token">Token</label>
        <div className="copy-row">
          <input id="edge-token" readOnly value={props.token} data-testid="edge-token" />
          <CopyButton text={props.token} label="Copy token" testid="copy-token" />
        </div>
      </div>
      <div className="field">
        <label htmlFor="join-command">Join command</label>
        <div className="copy-row">
          <textarea
            id="join-command"
            readOnly
            value={props.join}
            rows={2}
            data-testid="join-command"
          />
          <CopyButton text={props.join} label="Copy command" testid="copy-join" />
        </div>
      </div>
      <button type="button" className="secondary" onClick={props.onDone} data-testid="token-done">
        I have saved it
      </button>
    </section>
  );
}
