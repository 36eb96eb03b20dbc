// O site do curso: a busca (sobre o índice do MyST, busca.json), o botão "copiar" e a página atual no menu.
(function () {
  "use strict";
  var here = document.body.getAttribute("data-pagina");
  document.querySelectorAll(".lateral a").forEach(function (a) {
    if (a.getAttribute("href") === here) { a.setAttribute("aria-current", "page"); }
  });

  document.querySelectorAll("button.copiar").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = button.parentElement.querySelector("pre").innerText;
      var done = function () { button.textContent = "copiado ✔"; setTimeout(function () { button.textContent = "copiar"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { button.textContent = "copie com Ctrl+C"; });
      } else {
        var area = document.createElement("textarea");
        area.value = text; document.body.appendChild(area); area.select();
        try { document.execCommand("copy"); done(); } catch (e) { button.textContent = "copie com Ctrl+C"; }
        document.body.removeChild(area);
      }
    });
  });

  var input = document.getElementById("busca"), list = document.getElementById("resultados"), index = null;
  function fold(s) { return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  function show(items, query) {
    list.innerHTML = "";
    if (!query) { list.hidden = true; return; }
    if (!items.length) {
      var none = document.createElement("li");
      none.textContent = "Nada encontrado para “" + query + "”. Tente outra palavra (ex.: rate, alerta, drift).";
      list.appendChild(none);
    }
    items.slice(0, 30).forEach(function (item) {
      var li = document.createElement("li"), a = document.createElement("a"), small = document.createElement("small");
      a.href = item.u; a.textContent = item.t + (item.s ? " › " + item.s : "");
      var at = fold(item.c).indexOf(fold(query));
      small.textContent = at >= 0 ? "…" + item.c.substr(Math.max(0, at - 40), 120).replace(/\s+/g, " ") + "…" : "";
      li.appendChild(a); li.appendChild(small); list.appendChild(li);
    });
    list.hidden = false;
  }
  function search() {
    var query = input.value.trim();
    if (query.length < 2) { show([], ""); return; }
    var q = fold(query);
    show(index.filter(function (item) { return fold(item.t + " " + item.s + " " + item.c).indexOf(q) >= 0; }), query);
  }
  input.addEventListener("input", function () {
    if (index) { search(); return; }
    fetch("busca.json").then(function (r) { return r.json(); }).then(function (data) { index = data; search(); })
      .catch(function () { show([], ""); input.placeholder = "A busca precisa do site servido por HTTP (python -m http.server)"; });
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { list.hidden = true; } });
})();
