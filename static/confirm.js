// Destructive buttons ask first: a submit button (or form) with data-confirm posts only once
// the question is answered OK. Captured before any other submit handler (CSP: no inline JS).
document.addEventListener(
  "submit",
  function (event) {
    const button = event.submitter;
    const question = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);
