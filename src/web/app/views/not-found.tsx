import { Link, PageHeader } from '../components/ui.js';
import { useTitle } from '../hooks.js';

export function NotFoundView() {
  useTitle('Not found');
  return (
    <>
      <PageHeader title="Page not found" subtitle="The dashboard has no view at this address." />
      <p>
        <Link href="/">Go to the overview</Link>
      </p>
    </>
  );
}
