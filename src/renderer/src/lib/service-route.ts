/** Moving between services from code (after adding or removing one). */
import { hrefFor } from './route';

/** Shows the service's detail, or the bare Services page for null. */
export function openService(name: string | null): void {
  window.location.hash = name === null ? hrefFor('services') : hrefFor('services', name);
}
