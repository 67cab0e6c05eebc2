import type { AnchorHTMLAttributes, ComponentChildren } from 'preact';
import type { CertificateStatus } from '../../../server/api/schemas.js';
import { onLinkClick } from '../router.js';

/** An in-app link (History API navigation on a plain click). */
export function Link(props: AnchorHTMLAttributes & { href: string }) {
  const { href, onClick, ...rest } = props;
  return (
    <a
      href={href}
      onClick={(e) => {
        if (typeof onClick === 'function') onClick(e);
        onLinkClick(e, href);
      }}
      {...rest}
    />
  );
}

/** The view's heading (focused after navigation, so keyboard and screen-reader users start there). */
export function PageHeader(props: {
  title: string;
  subtitle?: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <header class="page-header">
      <div class="page-header-text">
        <h1 id="page-title" tabIndex={-1}>
          {props.title}
        </h1>
        {props.subtitle ? <p class="muted page-subtitle">{props.subtitle}</p> : null}
      </div>
      {props.actions ? <div class="page-actions">{props.actions}</div> : null}
    </header>
  );
}

const STATUS_LABEL: Record<CertificateStatus, string> = {
  valid: 'Valid',
  revoked: 'Revoked',
  hold: 'On hold',
  expired: 'Expired',
};

export function StatusBadge(props: { status: CertificateStatus | undefined; state?: string }) {
  if (!props.status) return <span class="badge badge-neutral">{props.state ?? 'unknown'}</span>;
  return <span class={`badge badge-${props.status}`}>{STATUS_LABEL[props.status]}</span>;
}

export function Badge(props: {
  tone?: 'ok' | 'danger' | 'warn' | 'neutral' | 'accent';
  children: ComponentChildren;
}) {
  return <span class={`badge badge-tone-${props.tone ?? 'neutral'}`}>{props.children}</span>;
}

export function Card(props: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
  labelledBy?: string;
}) {
  const id = props.labelledBy;
  return (
    <section class={`card ${props.class ?? ''}`} aria-labelledby={id}>
      {props.title ? (
        <div class="card-header">
          <h2 id={id}>{props.title}</h2>
          {props.actions ? <div class="card-actions">{props.actions}</div> : null}
        </div>
      ) : null}
      <div class="card-body">{props.children}</div>
    </section>
  );
}

export function ErrorNotice(props: { error: Error | undefined; retry?: () => void }) {
  if (!props.error) return null;
  return (
    <div class="notice notice-error notice-row" role="alert">
      <span>{props.error.message}</span>
      {props.retry ? (
        <button type="button" class="btn btn-small" onClick={props.retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Loading(props: { label?: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {props.label ?? 'Loading…'}
    </p>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

/** A definition list of label/value rows (values may be elements). */
export function Facts(props: {
  rows: readonly (readonly [string, ComponentChildren] | false | undefined)[];
}) {
  return (
    <dl class="facts">
      {props.rows
        .filter((r): r is readonly [string, ComponentChildren] => !!r)
        .map(([k, v]) => (
          <div class="fact" key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}
