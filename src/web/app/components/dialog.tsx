import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * A modal dialog on the native `<dialog>` element: the browser traps focus inside, Escape closes it,
 * and focus returns to the element that opened it.
 */
export function Dialog(props: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  tone?: 'danger';
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      class={`dialog${props.tone ? ` dialog-${props.tone}` : ''}`}
      aria-labelledby="dialog-title"
      onClose={props.onClose}
    >
      {props.open ? (
        <div class="dialog-body">
          <h2 id="dialog-title">{props.title}</h2>
          {props.children}
        </div>
      ) : null}
    </dialog>
  );
}
