// The dashboard's own behaviour, from a file: the Content-Security-Policy runs no inline script or handler.
// A select marked data-autosubmit sends its form as soon as it changes (the timeline's filters).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit") && field.form) {
    field.form.requestSubmit();
  }
});
