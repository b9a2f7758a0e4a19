// Patron console: asks before a destructive form is sent. Forms with data-confirm show
// the dialog; the form is submitted only when the operator confirms.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const dialog = document.getElementById("confirm");
  if (!dialog || typeof dialog.showModal !== "function") {
    return;
  }
  const text = dialog.querySelector(".confirm-text");
  let pending = null;
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.confirmed === "yes") {
        return;
      }
      event.preventDefault();
      if (!form.reportValidity()) {
        return;
      }
      pending = form;
      text.textContent = form.dataset.confirm;
      dialog.showModal();
    });
  });
  dialog.addEventListener("close", () => {
    const form = pending;
    pending = null;
    if (form && dialog.returnValue === "confirm") {
      form.dataset.confirmed = "yes";
      form.requestSubmit();
    }
  });
});
