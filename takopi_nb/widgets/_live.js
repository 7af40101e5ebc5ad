// PrivateHTML (an anywidget ES module, no build step): text that must not be saved with
// the notebook (a key's last characters, the account email, local paths) comes as a
// message, never as widget state; each new view asks the kernel for it.
export default {
  render({ model, el }) {
    const box = document.createElement("div");
    box.className = "widget-html-content takopi-private mathjax_ignore tex2jax_ignore";
    el.append(box);
    const onMsg = (msg) => {
      // The kernel's own HTML, every outside text escaped there, as ipywidgets' HTML shows it.
      if (msg && typeof msg.html === "string") box.innerHTML = msg.html;
    };
    model.on("msg:custom", onMsg);
    model.send({ want: true });
    return () => model.off("msg:custom", onMsg);
  },
};
