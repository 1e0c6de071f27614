/** The error page's retry button reloads the page: each load mints a fresh widget URL. */
document.getElementById('retry')?.addEventListener('click', () => window.location.reload());
