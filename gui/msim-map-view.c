/* msim-map-view.c: the network map, drawn with cairo from the recorded run.
 *
 * Sizes come from the widget's font (Pango metrics), never from fixed pixel
 * counts, so the map stays legible with large text and on high-DPI screens.
 * Colours derive from the widget's foreground colour, so the map follows a
 * light or dark theme; and colour is never the only cue: a down link is
 * dashed and crossed, a failure has its own shape and words.
 */
#include "msim-map-view.h"

#include <math.h>

#include "msim-map-layout.h"
#include "trace/sim-narration.h"

/* How long, in simulated time, a failure stays marked on the map. */
#define FAILURE_SHOWN_FOR (3 * SIM_TIME_SECOND)
/* Text on a token is cut to this many characters. */
#define TOKEN_MAX_CHARS 34
/* Labels stacked at one spot of a link before the rest are counted. */
#define MAP_TOKENS_PER_SPOT 3
/* The map's text is this much larger than the interface's, for projectors. */
#define MAP_TEXT_SCALE 1.25
/* Node names are larger still: they are what a class reads first. */
#define NAME_SCALE 1.25

struct _MsimMapView
{
  GtkWidget parent_instance;

  MsimRun *run;
  MsimMapLayout *layout;
  SimTime time;
  gint current_event;
  GtkWidget *menu;   /* the GtkPopoverMenu of interventions */
};

G_DEFINE_FINAL_TYPE (MsimMapView, msim_map_view, GTK_TYPE_WIDGET)

/* The colours of one drawing, derived from the theme's foreground. */
typedef struct
{
  GdkRGBA foreground;
  GdkRGBA background;
  GdkRGBA client;    /* C: lines, queries */
  GdkRGBA server;    /* S: lines, answers */
  GdkRGBA dns;
  GdkRGBA failure;
  GdkRGBA highlight;
} Palette;

/* What one drawing needs, computed once per frame. */
typedef struct
{
  MsimMapView *self;
  cairo_t *cr;
  Palette palette;
  double em;          /* height of a line of map text, in device units */
  double text_scale;  /* below 1 when the longest node name would not fit its cell */
  double width, height;
  double icon;        /* side of a node icon */
  double left, top, cell_width, cell_height;
} Drawing;

typedef struct
{
  double x, y;
} Point;

static void
palette_init (Palette *palette, GtkWidget *widget)
{
  GdkRGBA foreground;

#if GTK_CHECK_VERSION(4, 10, 0)
  gtk_widget_get_color (widget, &foreground);
#else
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &foreground);
#endif
  gboolean dark = 0.2126 * foreground.red + 0.7152 * foreground.green + 0.0722 * foreground.blue > 0.5;

  palette->foreground = foreground;
  palette->foreground.alpha = 1.0;
  /* GNOME palette hues: the darker shade on a light theme, the lighter
   * shade on a dark one, both above 4.5:1 against the view background. */
  if (dark)
    {
      palette->background = (GdkRGBA) { 0.12, 0.12, 0.12, 1 };
      palette->client = (GdkRGBA) { 0.47, 0.68, 0.93, 1 };
      palette->server = (GdkRGBA) { 0.56, 0.94, 0.64, 1 };
      palette->dns = (GdkRGBA) { 0.86, 0.54, 0.87, 1 };
      palette->failure = (GdkRGBA) { 1.00, 0.48, 0.39, 1 };
      palette->highlight = (GdkRGBA) { 0.97, 0.83, 0.30, 1 };
    }
  else
    {
      palette->background = (GdkRGBA) { 1, 1, 1, 1 };
      palette->client = (GdkRGBA) { 0.11, 0.44, 0.85, 1 };
      palette->server = (GdkRGBA) { 0.10, 0.50, 0.28, 1 };
      palette->dns = (GdkRGBA) { 0.51, 0.24, 0.61, 1 };
      palette->failure = (GdkRGBA) { 0.75, 0.11, 0.16, 1 };
      palette->highlight = (GdkRGBA) { 0.80, 0.50, 0.00, 1 };
    }
}

static void
set_color (cairo_t *cr, const GdkRGBA *color, double alpha)
{
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, color->alpha * alpha);
}

static PangoLayout *
make_text (Drawing *d, const char *text, double scale, gboolean bold)
{
  GtkWidget *widget = GTK_WIDGET (d->self);
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  PangoFontDescription *font = pango_font_description_copy (
      pango_context_get_font_description (gtk_widget_get_pango_context (widget)));
  int size = (int) (pango_font_description_get_size (font) * MAP_TEXT_SCALE * scale * d->text_scale);

  if (pango_font_description_get_size_is_absolute (font))
    pango_font_description_set_absolute_size (font, size);
  else
    pango_font_description_set_size (font, size);
  pango_font_description_set_weight (font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  pango_cairo_update_layout (d->cr, layout);
  return layout;
}

static void
rounded_rectangle (cairo_t *cr, double x, double y, double width, double height, double radius)
{
  radius = MIN (radius, MIN (width, height) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + width - radius, y + radius, radius, -G_PI / 2, 0);
  cairo_arc (cr, x + width - radius, y + height - radius, radius, 0, G_PI / 2);
  cairo_arc (cr, x + radius, y + height - radius, radius, G_PI / 2, G_PI);
  cairo_arc (cr, x + radius, y + radius, radius, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

/* Text centred on (x, y) on a plate of the background colour, so it stays
 * readable over lines.  Returns the plate's height. */
static double
draw_label (Drawing *d, const char *text, double x, double y, double scale, gboolean bold,
            const GdkRGBA *color, const GdkRGBA *border)
{
  g_autoptr (PangoLayout) layout = make_text (d, text, scale, bold);
  int width, height;
  double pad = d->em * 0.25;

  pango_layout_get_pixel_size (layout, &width, &height);
  /* Keep the whole plate on the map. */
  x = CLAMP (x, width / 2.0 + pad, MAX (width / 2.0 + pad, d->width - width / 2.0 - pad));
  cairo_new_path (d->cr);
  rounded_rectangle (d->cr, x - width / 2.0 - pad, y - height / 2.0 - pad / 2, width + 2 * pad, height + pad, pad * 1.5);
  set_color (d->cr, &d->palette.background, border != NULL ? 0.95 : 0.8);
  cairo_fill_preserve (d->cr);
  if (border != NULL)
    {
      set_color (d->cr, border, 1);
      cairo_set_line_width (d->cr, MAX (1.5, d->em * 0.1));
      cairo_stroke (d->cr);
    }
  else
    cairo_new_path (d->cr);
  set_color (d->cr, color, 1);
  cairo_move_to (d->cr, x - width / 2.0, y - height / 2.0);
  pango_cairo_show_layout (d->cr, layout);
  cairo_new_path (d->cr);
  return height + pad;
}

static Point
node_center (Drawing *d, const MsimMapNode *node)
{
  /* The icon sits in the upper part of its cell, its labels below. */
  return (Point) { d->left + node->x * d->cell_width, d->top + node->y * d->cell_height - d->em * 0.9 };
}

/* ---- icons: simple vector drawings in a square of side s around (x, y) ---- */

static void
stroke_and_fill (Drawing *d, const GdkRGBA *tint)
{
  set_color (d->cr, &d->palette.background, 1);
  cairo_fill_preserve (d->cr);
  set_color (d->cr, tint, 0.18);
  cairo_fill_preserve (d->cr);
  set_color (d->cr, &d->palette.foreground, 1);
  cairo_stroke (d->cr);
}

static void
draw_laptop (Drawing *d, double x, double y, double s, const GdkRGBA *tint)
{
  cairo_t *cr = d->cr;
  rounded_rectangle (cr, x - s * 0.38, y - s * 0.36, s * 0.76, s * 0.5, s * 0.05);
  stroke_and_fill (d, tint);
  cairo_move_to (cr, x - s * 0.38, y + s * 0.16);
  cairo_line_to (cr, x + s * 0.38, y + s * 0.16);
  cairo_line_to (cr, x + s * 0.5, y + s * 0.3);
  cairo_line_to (cr, x - s * 0.5, y + s * 0.3);
  cairo_close_path (cr);
  stroke_and_fill (d, tint);
}

static void
draw_phone (Drawing *d, double x, double y, double s, const GdkRGBA *tint)
{
  cairo_t *cr = d->cr;
  rounded_rectangle (cr, x - s * 0.24, y - s * 0.44, s * 0.48, s * 0.88, s * 0.08);
  stroke_and_fill (d, tint);
  cairo_arc (cr, x, y + s * 0.33, s * 0.05, 0, 2 * G_PI);
  set_color (cr, &d->palette.foreground, 1);
  cairo_fill (cr);
  cairo_move_to (cr, x - s * 0.17, y + s * 0.24);
  cairo_line_to (cr, x + s * 0.17, y + s * 0.24);
  cairo_stroke (cr);
}

static void
draw_server (Drawing *d, double x, double y, double s, const GdkRGBA *tint)
{
  cairo_t *cr = d->cr;
  for (int unit = 0; unit < 3; unit++)
    {
      double top = y - s * 0.42 + unit * s * 0.29;
      rounded_rectangle (cr, x - s * 0.42, top, s * 0.84, s * 0.26, s * 0.04);
      stroke_and_fill (d, tint);
      cairo_arc (cr, x + s * 0.28, top + s * 0.13, s * 0.04, 0, 2 * G_PI);
      set_color (cr, &d->palette.foreground, 1);
      cairo_fill (cr);
      cairo_move_to (cr, x - s * 0.3, top + s * 0.13);
      cairo_line_to (cr, x + s * 0.1, top + s * 0.13);
      cairo_stroke (cr);
    }
}

static void
draw_cylinder (Drawing *d, double x, double y, double s, const GdkRGBA *tint)
{
  cairo_t *cr = d->cr;
  double rx = s * 0.4, ry = s * 0.12, top = y - s * 0.32, bottom = y + s * 0.32;

  cairo_save (cr);
  cairo_move_to (cr, x - rx, top);
  cairo_line_to (cr, x - rx, bottom);
  cairo_translate (cr, x, bottom);
  cairo_scale (cr, 1, ry / rx);
  cairo_arc_negative (cr, 0, 0, rx, G_PI, 0);
  cairo_restore (cr);
  cairo_line_to (cr, x + rx, top);
  cairo_close_path (cr);
  stroke_and_fill (d, tint);
  for (int ring = 0; ring < 2; ring++)
    {
      double cy = ring == 0 ? top : y;
      cairo_save (cr);
      cairo_translate (cr, x, cy);
      cairo_scale (cr, 1, ry / rx);
      if (ring == 0)
        cairo_arc (cr, 0, 0, rx, 0, 2 * G_PI);
      else
        cairo_arc (cr, 0, 0, rx, 0, G_PI);
      cairo_restore (cr);
      if (ring == 0)
        stroke_and_fill (d, tint);
      else
        {
          set_color (cr, &d->palette.foreground, 1);
          cairo_stroke (cr);
        }
    }
}

static void
draw_globe (Drawing *d, double x, double y, double s, const GdkRGBA *tint)
{
  cairo_t *cr = d->cr;
  double r = s * 0.44;

  cairo_arc (cr, x, y, r, 0, 2 * G_PI);
  stroke_and_fill (d, tint);
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, 0.45, 1);
  cairo_arc (cr, 0, 0, r, 0, 2 * G_PI);
  cairo_restore (cr);
  cairo_move_to (cr, x - r, y);
  cairo_line_to (cr, x + r, y);
  cairo_move_to (cr, x - r * 0.87, y - r * 0.5);
  cairo_line_to (cr, x + r * 0.87, y - r * 0.5);
  cairo_move_to (cr, x - r * 0.87, y + r * 0.5);
  cairo_line_to (cr, x + r * 0.87, y + r * 0.5);
  cairo_move_to (cr, x, y - r);
  cairo_line_to (cr, x, y + r);
  set_color (cr, &d->palette.foreground, 1);
  cairo_stroke (cr);
}

/* An eye: someone watching the traffic on a link. */
static void
draw_eye (Drawing *d, double x, double y, double s, const GdkRGBA *tint)
{
  cairo_t *cr = d->cr;
  double w = s * 0.46, h = s * 0.26;

  cairo_move_to (cr, x - w, y);
  cairo_curve_to (cr, x - w * 0.5, y - h * 1.6, x + w * 0.5, y - h * 1.6, x + w, y);
  cairo_curve_to (cr, x + w * 0.5, y + h * 1.6, x - w * 0.5, y + h * 1.6, x - w, y);
  cairo_close_path (cr);
  stroke_and_fill (d, tint);
  cairo_arc (cr, x, y, h * 0.75, 0, 2 * G_PI);
  set_color (cr, &d->palette.foreground, 1);
  cairo_fill (cr);
}

static void
draw_directory (Drawing *d, double x, double y, double s, const GdkRGBA *tint)
{
  cairo_t *cr = d->cr;

  /* A book with a "DNS" tag: the directory of the Internet. */
  rounded_rectangle (cr, x - s * 0.36, y - s * 0.42, s * 0.72, s * 0.84, s * 0.05);
  stroke_and_fill (d, tint);
  cairo_move_to (cr, x - s * 0.24, y - s * 0.42);
  cairo_line_to (cr, x - s * 0.24, y + s * 0.42);
  cairo_stroke (cr);
  g_autoptr (PangoLayout) layout = make_text (d, "DNS", 0.6, TRUE);
  int width, height;
  pango_layout_get_pixel_size (layout, &width, &height);
  cairo_move_to (cr, x + s * 0.06 - width / 2.0, y - height / 2.0);
  pango_cairo_show_layout (cr, layout);
  cairo_new_path (cr);
}

static gboolean
looks_like_phone (const char *name)
{
  return strstr (name, "phone") != NULL || strstr (name, "mobile") != NULL;
}

static void
draw_icon (Drawing *d, const MsimMapNode *node, Point at)
{
  double s = d->icon;

  cairo_new_path (d->cr);
  cairo_set_line_width (d->cr, MAX (1.5, s * 0.045));
  cairo_set_line_join (d->cr, CAIRO_LINE_JOIN_ROUND);
  switch (node->kind)
    {
    case SIM_ROLE_CLIENT:
      if (looks_like_phone (node->name))
        draw_phone (d, at.x, at.y, s, &d->palette.client);
      else
        draw_laptop (d, at.x, at.y, s, &d->palette.client);
      break;
    case SIM_ROLE_MTA:
      draw_server (d, at.x, at.y, s, &d->palette.server);
      break;
    case SIM_ROLE_STORE:
      draw_cylinder (d, at.x, at.y, s, &d->palette.server);
      break;
    case SIM_ROLE_DNS:
      draw_directory (d, at.x, at.y, s, &d->palette.dns);
      break;
    case SIM_ROLE_EAVESDROPPER:
      draw_eye (d, at.x, at.y, s, &d->palette.dns);
      break;
    case SIM_ROLE_ROUTER:
    default:
      draw_globe (d, at.x, at.y, s, &d->palette.client);
      break;
    }
}

/* ---- the layers, bottom to top ---- */

static void
draw_groups (Drawing *d)
{
  GPtrArray *groups = msim_map_layout_get_groups (d->self->layout);

  for (guint i = 0; i < groups->len; i++)
    {
      const MsimMapGroup *group = g_ptr_array_index (groups, i);
      double inset = d->em * 0.3;
      double x = d->left + group->left * d->cell_width + inset;
      double y = d->top + group->top * d->cell_height + inset;
      double width = (group->right - group->left) * d->cell_width - 2 * inset;
      double height = (group->bottom - group->top) * d->cell_height - 2 * inset;

      rounded_rectangle (d->cr, x, y, width, height, d->em * 0.6);
      set_color (d->cr, &d->palette.foreground, 0.05);
      cairo_fill_preserve (d->cr);
      set_color (d->cr, &d->palette.foreground, 0.35);
      cairo_set_line_width (d->cr, MAX (1.0, d->em * 0.06));
      cairo_stroke (d->cr);

      g_autoptr (PangoLayout) layout = make_text (d, group->domain, 1.05, TRUE);
      int title_width, title_height;
      pango_layout_get_pixel_size (layout, &title_width, &title_height);
      if (title_width > width - d->em * 0.8)
        {
          /* A narrow box: a smaller title rather than one over its neighbour. */
          g_object_unref (layout);
          layout = make_text (d, group->domain, 1.05 * MAX (0.5, (width - d->em * 0.8) / title_width), TRUE);
        }
      set_color (d->cr, &d->palette.foreground, 0.7);
      cairo_move_to (d->cr, x + d->em * 0.4, y + d->em * 0.15);
      pango_cairo_show_layout (d->cr, layout);
      cairo_new_path (d->cr);
    }
}

static void
draw_links (Drawing *d)
{
  MsimMapView *self = d->self;
  GPtrArray *links = sim_network_get_links (sim_world_get_network (msim_run_get_world (self->run)));

  for (guint i = 0; i < links->len; i++)
    {
      SimLink *link = g_ptr_array_index (links, i);
      const MsimMapNode *a = msim_map_layout_find (self->layout, sim_node_get_name (sim_link_get_a (link)));
      const MsimMapNode *b = msim_map_layout_find (self->layout, sim_node_get_name (sim_link_get_b (link)));
      if (a == NULL || b == NULL)
        continue;
      Point pa = node_center (d, a), pb = node_center (d, b);
      gboolean up = msim_run_link_is_up_at (self->run, a->name, b->name, self->time);
      Point middle = { (pa.x + pb.x) / 2, (pa.y + pb.y) / 2 };

      cairo_move_to (d->cr, pa.x, pa.y);
      cairo_line_to (d->cr, pb.x, pb.y);
      cairo_set_line_width (d->cr, MAX (2.0, d->em * 0.14));
      if (up)
        {
          set_color (d->cr, &d->palette.foreground, 0.45);
          cairo_stroke (d->cr);
        }
      else
        {
          double dash[] = { d->em * 0.5, d->em * 0.35 };
          cairo_set_dash (d->cr, dash, 2, 0);
          set_color (d->cr, &d->palette.failure, 1);
          cairo_stroke (d->cr);
          cairo_set_dash (d->cr, NULL, 0, 0);
        }

      g_autofree char *latency = sim_time_to_string (sim_link_get_latency (link));
      g_autofree char *label = up ? g_strdup (latency) : g_strdup_printf ("\u2715 DOWN  %s", latency);
      /* A down link's label sits above the line so its dashes show. */
      draw_label (d, label, middle.x, up ? middle.y : middle.y - d->em * 0.9, 0.8, !up, up ? &d->palette.foreground : &d->palette.failure,
                  up ? NULL : &d->palette.failure);
    }
}

static gboolean
event_involves (const SimEvent *event, const char *node)
{
  return g_strcmp0 (event->from, node) == 0 || g_strcmp0 (event->to, node) == 0;
}

/* "smtp" for smtp.example.com inside the example.com box; the whole name
 * when the node sits in no box of its domain (a router). */
static char *
node_host_label (const MsimMapNode *node)
{
  if (node->kind == SIM_ROLE_ROUTER || node->domain[0] == '\0')
    return g_strdup (node->name);
  return g_strndup (node->name, node->domain - node->name - 1);
}

static void
draw_nodes (Drawing *d)
{
  MsimMapView *self = d->self;
  GPtrArray *nodes = msim_map_layout_get_nodes (self->layout);
  const SimEvent *current = NULL;

  if (self->current_event >= 0 && (guint) self->current_event < msim_run_get_n_events (self->run))
    current = msim_run_get_event (self->run, self->current_event);
  for (guint i = 0; i < nodes->len; i++)
    {
      const MsimMapNode *node = g_ptr_array_index (nodes, i);
      Point at = node_center (d, node);
      gboolean up = msim_run_node_is_up_at (self->run, node->name, self->time);

      if (current != NULL && event_involves (current, node->name))
        {
          /* The nodes of the current event: a thick ring, not only a colour. */
          cairo_new_path (d->cr);
          cairo_arc (d->cr, at.x, at.y, d->icon * 0.72, 0, 2 * G_PI);
          set_color (d->cr, &d->palette.highlight, 0.25);
          cairo_fill_preserve (d->cr);
          set_color (d->cr, &d->palette.highlight, 1);
          cairo_set_line_width (d->cr, MAX (2.5, d->em * 0.18));
          cairo_stroke (d->cr);
        }
      draw_icon (d, node, at);
      if (!up)
        {
          double s = d->icon * 0.5;
          cairo_move_to (d->cr, at.x - s, at.y - s);
          cairo_line_to (d->cr, at.x + s, at.y + s);
          cairo_move_to (d->cr, at.x + s, at.y - s);
          cairo_line_to (d->cr, at.x - s, at.y + s);
          set_color (d->cr, &d->palette.failure, 1);
          cairo_set_line_width (d->cr, MAX (3.0, d->em * 0.22));
          cairo_stroke (d->cr);
        }

      /* The host's own label, large; its domain is the title of the box
       * around it, and the address below says exactly where it is. */
      g_autofree char *host = node_host_label (node);
      double y = at.y + d->icon * 0.55 + d->em * 0.55;
      y += draw_label (d, host, at.x, y, NAME_SCALE, TRUE, &d->palette.foreground, NULL) * 0.5;
      g_autofree char *detail = up ? g_strdup (node->address) : g_strdup_printf ("%s  \u2715 DOWN", node->address);
      draw_label (d, detail, at.x, y + d->em * 0.45, 0.85, !up, up ? &d->palette.foreground : &d->palette.failure, NULL);
    }
}

/* The point @fraction of the way along @event's path. */
static gboolean
point_along (Drawing *d, const SimEvent *event, double fraction, Point *out, Point *direction)
{
  MsimMapView *self = d->self;
  SimNetwork *network = sim_world_get_network (msim_run_get_world (self->run));
  g_autoptr (GPtrArray) hops = g_ptr_array_new ();
  g_autoptr (GArray) lengths = g_array_new (FALSE, FALSE, sizeof (double));
  double total = 0;

  if (event->path != NULL && event->path->len >= 2)
    g_ptr_array_extend (hops, event->path, NULL, NULL);
  else
    {
      g_ptr_array_add (hops, (gpointer) event->from);
      g_ptr_array_add (hops, (gpointer) event->to);
    }
  for (guint i = 0; i < hops->len; i++)
    if (msim_map_layout_find (self->layout, g_ptr_array_index (hops, i)) == NULL)
      return FALSE;
  /* Each hop takes its link's latency, so a token slows down on slow links. */
  for (guint i = 0; i + 1 < hops->len; i++)
    {
      SimLink *link = sim_network_find_link (network, sim_network_find_node (network, g_ptr_array_index (hops, i)),
                                             sim_network_find_node (network, g_ptr_array_index (hops, i + 1)));
      double length = link != NULL ? (double) MAX (sim_link_get_latency (link), 1) : 1.0;
      g_array_append_val (lengths, length);
      total += length;
    }
  double remaining = CLAMP (fraction, 0.0, 1.0) * total;
  for (guint i = 0; i + 1 < hops->len; i++)
    {
      double length = g_array_index (lengths, double, i);
      if (remaining <= length || i + 2 == hops->len)
        {
          Point a = node_center (d, msim_map_layout_find (self->layout, g_ptr_array_index (hops, i)));
          Point b = node_center (d, msim_map_layout_find (self->layout, g_ptr_array_index (hops, i + 1)));
          double f = CLAMP (remaining / length, 0.0, 1.0);
          *out = (Point) { a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f };
          *direction = (Point) { b.x - a.x, b.y - a.y };
          return TRUE;
        }
      remaining -= length;
    }
  return FALSE;
}

static const GdkRGBA *
token_color (Drawing *d, const SimEvent *event)
{
  if (msim_event_is_failure (event))
    return &d->palette.failure;
  if (g_strcmp0 (event->protocol, "dns") == 0)
    return &d->palette.dns;
  return event->from_client || event->kind == SIM_EVENT_CONNECT ? &d->palette.client : &d->palette.server;
}

static char *
token_text (const SimEvent *event)
{
  g_autofree char *summary = msim_event_summary (event);
  const char *prefix = "";

  if (event->kind == SIM_EVENT_DATA && g_strcmp0 (event->protocol, "dns") != 0)
    prefix = event->from_client ? "C: " : "S: ";
  else if (event->kind == SIM_EVENT_CONNECT)
    return g_strdup_printf ("SYN \u2192 port %u (%s)", event->to_port, event->protocol);
  else if (event->kind == SIM_EVENT_ACCEPT)
    return g_strdup ("SYN-ACK");
  else if (event->kind == SIM_EVENT_CLOSE)
    return g_strdup ("FIN");
  g_autofree char *text = g_strconcat (prefix, summary, NULL);
  if (g_utf8_strlen (text, -1) <= TOKEN_MAX_CHARS)
    return g_steal_pointer (&text);
  g_autofree char *cut = g_utf8_substring (text, 0, TOKEN_MAX_CHARS - 1);
  return g_strconcat (cut, "\u2026", NULL);
}

/* An arrow head pointing the way the bytes travel: the direction is a
 * shape, not a colour. */
static void
draw_arrow_head (Drawing *d, Point at, Point direction, const GdkRGBA *color)
{
  double length = hypot (direction.x, direction.y);
  double ux = length > 0 ? direction.x / length : 1, uy = length > 0 ? direction.y / length : 0;
  double s = d->em * 0.55;

  cairo_move_to (d->cr, at.x + ux * s, at.y + uy * s);
  cairo_line_to (d->cr, at.x - ux * s * 0.7 - uy * s * 0.7, at.y - uy * s * 0.7 + ux * s * 0.7);
  cairo_line_to (d->cr, at.x - ux * s * 0.7 + uy * s * 0.7, at.y - uy * s * 0.7 - ux * s * 0.7);
  cairo_close_path (d->cr);
  set_color (d->cr, color, 1);
  cairo_fill_preserve (d->cr);
  set_color (d->cr, &d->palette.background, 1);
  cairo_set_line_width (d->cr, MAX (1.0, d->em * 0.06));
  cairo_stroke (d->cr);
}

/* A spot of the map, about half a line of text across: tokens in the same
 * spot share one stack of labels. */
typedef struct
{
  Point at;
  guint tokens;
} TokenSpot;

static guint
token_spot_key (Drawing *d, Point at)
{
  int column = (int) floor (at.x / (d->em * 0.5)), row = (int) floor (at.y / (d->em * 0.5));
  return ((guint) column << 16) ^ (guint) row;
}

static guint
draw_tokens (Drawing *d)
{
  MsimMapView *self = d->self;
  GPtrArray *events = msim_run_get_events (self->run);
  gint last = msim_run_find_event_at (self->run, self->time);
  g_autoptr (GHashTable) spots = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  guint drawn = 0;

  for (gint i = last; i >= 0; i--)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      /* Nothing in the run travels longer than a connection timeout. */
      if (self->time - event->time > SIM_TCP_CONNECT_TIMEOUT)
        break;
      if (event->arrival <= self->time || event->arrival == event->time || event->to == NULL || event->to[0] == '\0')
        continue;
      Point at, direction;
      double fraction = (double) (self->time - event->time) / (double) (event->arrival - event->time);
      if (!point_along (d, event, fraction, &at, &direction))
        continue;
      guint key = token_spot_key (d, at);
      TokenSpot *spot = g_hash_table_lookup (spots, GUINT_TO_POINTER (key));
      if (spot == NULL)
        {
          spot = g_new0 (TokenSpot, 1);
          spot->at = at;
          g_hash_table_insert (spots, GUINT_TO_POINTER (key), spot);
        }
      /* Tokens in flight together stack their labels so none hides another;
       * past MAP_TOKENS_PER_SPOT in one spot, the rest are counted, not
       * drawn: a hundred plates on one point would hide each other and
       * cost a frame. */
      if (spot->tokens++ >= MAP_TOKENS_PER_SPOT)
        continue;
      const GdkRGBA *color = token_color (d, event);
      g_autofree char *text = token_text (event);
      draw_arrow_head (d, at, direction, color);
      draw_label (d, text, at.x, at.y - d->em * (1.3 + 1.5 * (spot->tokens - 1)), 0.9, TRUE, color, color);
      drawn++;
    }
  GHashTableIter iter;
  TokenSpot *spot;
  g_hash_table_iter_init (&iter, spots);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &spot))
    if (spot->tokens > MAP_TOKENS_PER_SPOT)
      {
        g_autofree char *more = g_strdup_printf ("+%u more here", spot->tokens - MAP_TOKENS_PER_SPOT);
        draw_label (d, more, spot->at.x, spot->at.y - d->em * (1.3 + 1.5 * MAP_TOKENS_PER_SPOT), 0.9, TRUE,
                    &d->palette.foreground, &d->palette.foreground);
      }
  return drawn;
}

static const char *
failure_anchor (const SimEvent *event)
{
  /* Where it happens: the server that refused, the node that gave up or
   * bounced, the server that replied 4xx/5xx (the sender of the reply). */
  if (event->kind == SIM_EVENT_REFUSED && event->to != NULL && event->to[0] != '\0')
    return event->to;
  return event->from;
}

static void
draw_failures (Drawing *d)
{
  MsimMapView *self = d->self;
  GPtrArray *events = msim_run_get_events (self->run);
  gint last = msim_run_find_event_at (self->run, self->time);
  g_autoptr (GHashTable) stacked = g_hash_table_new (g_str_hash, g_str_equal);

  for (gint i = last; i >= 0; i--)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (self->time - event->time > FAILURE_SHOWN_FOR && i != self->current_event)
        {
          if (self->time - event->time > SIM_TCP_CONNECT_TIMEOUT)
            break;
          continue;
        }
      if (!msim_event_is_failure (event) || event->kind == SIM_EVENT_ACTION)
        continue;
      const MsimMapNode *node = msim_map_layout_find (self->layout, failure_anchor (event));
      if (node == NULL)
        continue;
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (stacked, node->name));
      if (count >= 2)
        continue;
      g_hash_table_insert (stacked, (gpointer) node->name, GUINT_TO_POINTER (count + 1));

      Point at = node_center (d, node);
      Point mark = { at.x + d->icon * 0.5, at.y - d->icon * 0.5 };
      double r = d->em * 0.7;
      /* A warning octagon with an exclamation mark: a shape of its own. */
      cairo_new_path (d->cr);
      for (int k = 0; k < 8; k++)
        {
          double angle = G_PI / 8 + k * G_PI / 4;
          cairo_line_to (d->cr, mark.x + r * cos (angle), mark.y + r * sin (angle));
        }
      cairo_close_path (d->cr);
      set_color (d->cr, &d->palette.failure, 1);
      cairo_fill_preserve (d->cr);
      set_color (d->cr, &d->palette.background, 1);
      cairo_set_line_width (d->cr, MAX (1.0, d->em * 0.08));
      cairo_stroke (d->cr);
      g_autoptr (PangoLayout) bang = make_text (d, "!", 0.9, TRUE);
      int width, height;
      pango_layout_get_pixel_size (bang, &width, &height);
      set_color (d->cr, &d->palette.background, 1);
      cairo_move_to (d->cr, mark.x - width / 2.0, mark.y - height / 2.0);
      pango_cairo_show_layout (d->cr, bang);
      cairo_new_path (d->cr);

      g_autofree char *summary = msim_event_summary (event);
      g_autofree char *text = g_strdup_printf ("\u26A0 %s", summary);
      if (g_utf8_strlen (text, -1) > TOKEN_MAX_CHARS + 8)
        {
          g_autofree char *cut = g_utf8_substring (text, 0, TOKEN_MAX_CHARS + 7);
          g_free (text);
          text = g_strconcat (cut, "\u2026", NULL);
        }
      draw_label (d, text, at.x, mark.y - d->em * (1.2 + 1.5 * count), 0.85, TRUE, &d->palette.failure,
                  &d->palette.failure);
    }
}

static void
draw_clock (Drawing *d, int width)
{
  char clock[32];
  g_autofree char *text = g_strdup_printf ("t = %s", g_strstrip (
      (char *) sim_time_format_clock (d->self->time, clock)));
  g_autoptr (PangoLayout) layout = make_text (d, text, 1.1, TRUE);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  set_color (d->cr, &d->palette.foreground, 1);
  cairo_move_to (d->cr, width - w - d->em * 0.6, d->em * 0.3);
  pango_cairo_show_layout (d->cr, layout);
}

/* The text scale at which the longest node name fits in its cell. */
static double
fit_names (Drawing *d)
{
  GPtrArray *nodes = msim_map_layout_get_nodes (d->self->layout);
  int widest = 1;

  for (guint i = 0; i < nodes->len; i++)
    {
      const MsimMapNode *node = g_ptr_array_index (nodes, i);
      g_autofree char *host = node_host_label (node);
      g_autoptr (PangoLayout) layout = make_text (d, host, NAME_SCALE, TRUE);
      int width, height;
      pango_layout_get_pixel_size (layout, &width, &height);
      widest = MAX (widest, width);
    }
  return CLAMP (d->cell_width * 0.94 / widest, 0.6, 1.0);
}

static double
measure_em (MsimMapView *self)
{
  PangoContext *context = gtk_widget_get_pango_context (GTK_WIDGET (self));
  PangoFontMetrics *metrics = pango_context_get_metrics (context, NULL, NULL);
  double em = (pango_font_metrics_get_ascent (metrics) + pango_font_metrics_get_descent (metrics)) / (double) PANGO_SCALE;

  pango_font_metrics_unref (metrics);
  return MAX (em, 8.0) * MAP_TEXT_SCALE;
}

/* Fills @d's geometry for a @width x @height drawing into @cr.  Returns
 * FALSE when there is nothing to draw. */
static gboolean
drawing_init (Drawing *d, MsimMapView *self, cairo_t *cr, int width, int height)
{
  *d = (Drawing) { self, cr };
  palette_init (&d->palette, GTK_WIDGET (self));
  if (self->run == NULL || self->layout == NULL)
    return FALSE;

  guint columns = MAX (msim_map_layout_get_n_columns (self->layout), 1);
  guint rows = MAX (msim_map_layout_get_n_rows (self->layout), 1);
  d->em = measure_em (self);
  d->left = d->em * 0.5;
  d->top = d->em * 1.6;
  d->cell_width = (width - 2 * d->left) / columns;
  d->cell_height = (height - d->top - d->em * 0.5) / rows;
  d->width = width;
  d->height = height;
  d->text_scale = 1.0;
  d->text_scale = fit_names (d);
  d->em *= d->text_scale;
  d->icon = MIN (d->em * 2.4, MIN (d->cell_width * 0.45, (d->cell_height - 2.6 * d->em) * 0.9));
  d->icon = MAX (d->icon, d->em);
  return TRUE;
}

void
msim_map_view_draw (MsimMapView *self, cairo_t *cr, int width, int height, gboolean paint_background)
{
  Drawing d;

  g_return_if_fail (MSIM_IS_MAP_VIEW (self));
  gboolean ready = drawing_init (&d, self, cr, width, height);
  if (paint_background)
    {
      set_color (cr, &d.palette.background, 1);
      cairo_paint (cr);
    }
  if (!ready)
    return;

  cairo_save (cr);
  draw_groups (&d);
  draw_links (&d);
  draw_nodes (&d);
  draw_tokens (&d);
  draw_failures (&d);
  draw_clock (&d, width);
  cairo_restore (cr);
}

/* The distance from @p to the segment @a - @b. */
static double
distance_to_segment (Point p, Point a, Point b)
{
  double dx = b.x - a.x, dy = b.y - a.y;
  double length2 = dx * dx + dy * dy;
  double t = length2 > 0 ? CLAMP (((p.x - a.x) * dx + (p.y - a.y) * dy) / length2, 0.0, 1.0) : 0.0;

  return hypot (p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

MsimMapPick
msim_map_view_pick (MsimMapView *self, double x, double y, int width, int height, const char **a, const char **b)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  MsimMapPick pick = MSIM_MAP_PICK_NONE;
  Point p = { x, y };
  Drawing d;

  g_return_val_if_fail (MSIM_IS_MAP_VIEW (self), MSIM_MAP_PICK_NONE);
  *a = *b = NULL;
  if (drawing_init (&d, self, cr, width, height))
    {
      GPtrArray *nodes = msim_map_layout_get_nodes (self->layout);
      GPtrArray *links = sim_network_get_links (sim_world_get_network (msim_run_get_world (self->run)));
      double best = G_MAXDOUBLE;

      /* A node is its icon and the two lines of labels under it. */
      for (guint i = 0; i < nodes->len && pick == MSIM_MAP_PICK_NONE; i++)
        {
          const MsimMapNode *node = g_ptr_array_index (nodes, i);
          Point at = node_center (&d, node);
          double half_width = MAX (d.icon * 0.6, d.em * 2.5);
          if (fabs (p.x - at.x) <= half_width && p.y >= at.y - d.icon * 0.6 && p.y <= at.y + d.icon * 0.55 + d.em * 2.6)
            {
              pick = MSIM_MAP_PICK_NODE;
              *a = node->name;
            }
        }
      /* A link is the nearest line within about half a line of text. */
      for (guint i = 0; i < links->len && pick != MSIM_MAP_PICK_NODE; i++)
        {
          SimLink *link = g_ptr_array_index (links, i);
          const MsimMapNode *na = msim_map_layout_find (self->layout, sim_node_get_name (sim_link_get_a (link)));
          const MsimMapNode *nb = msim_map_layout_find (self->layout, sim_node_get_name (sim_link_get_b (link)));
          if (na == NULL || nb == NULL)
            continue;
          double distance = distance_to_segment (p, node_center (&d, na), node_center (&d, nb));
          if (distance <= d.em * 0.7 && distance < best)
            {
              best = distance;
              pick = MSIM_MAP_PICK_LINK;
              *a = na->name;
              *b = nb->name;
            }
        }
    }
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  return pick;
}

guint
msim_map_view_count_in_flight (MsimMapView *self)
{
  GPtrArray *events;
  guint count = 0;

  if (self->run == NULL)
    return 0;
  events = msim_run_get_events (self->run);
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (event->time <= self->time && self->time < event->arrival && event->to != NULL && event->to[0] != '\0')
        count++;
    }
  return count;
}

/* An item activating @action with @target at the current time. */
static void
append_item (GMenu *section, const char *label, const char *action, GVariant *target)
{
  g_autoptr (GMenuItem) item = g_menu_item_new (label, NULL);

  g_menu_item_set_action_and_target_value (item, action, target);
  g_menu_append_item (section, item);
}

static GMenu *
build_link_menu (MsimMapView *self, const char *a, const char *b, const char *when)
{
  GMenu *menu = g_menu_new ();
  g_autoptr (GMenu) section = g_menu_new ();
  g_autofree char *title = g_strdup_printf ("Link %s \u2013 %s", a, b);
  gboolean up = msim_run_link_is_up_at (self->run, a, b, self->time);
  g_autofree char *label = g_strdup_printf (up ? "Take the link _down at %s" : "Bring the link _up at %s", when);

  append_item (section, label, up ? "win.link-down" : "win.link-up", g_variant_new ("(ss)", a, b));
  g_menu_append_section (menu, title, G_MENU_MODEL (section));
  return menu;
}

static GMenu *
build_node_menu (MsimMapView *self, const char *node, const char *when)
{
  GMenu *menu = g_menu_new ();
  g_autoptr (GMenu) section = g_menu_new ();
  const MsimMapNode *map_node = msim_map_layout_find (self->layout, node);
  gboolean up = msim_run_node_is_up_at (self->run, node, self->time);
  g_autofree char *label = g_strdup_printf (up ? "Take this machine _down (crash) at %s" : "Bring this machine back _up at %s",
                                            when);

  append_item (section, label, up ? "win.node-down" : "win.node-up", g_variant_new_string (node));
  if (map_node != NULL && map_node->kind == SIM_ROLE_DNS)
    {
      g_autoptr (GPtrArray) zones = msim_run_get_zones (self->run, node);
      if (zones->len > 0)
        {
          g_autofree char *edit = g_strdup_printf ("_Edit a DNS record at %s\u2026", when);
          append_item (section, edit, "win.edit-dns-record", g_variant_new_string (node));
        }
    }
  if (map_node != NULL && map_node->kind == SIM_ROLE_CLIENT)
    {
      g_autoptr (GPtrArray) accounts = msim_run_get_accounts (self->run, node);
      if (accounts->len > 0)
        {
          g_autofree char *compose = g_strdup_printf ("_Write an email from here at %s\u2026", when);
          append_item (section, compose, "win.compose-email", g_variant_new_string (node));
        }
    }
  g_menu_append_section (menu, node, G_MENU_MODEL (section));
  return menu;
}

gboolean
msim_map_view_popup_menu_at (MsimMapView *self, double x, double y)
{
  const char *a, *b;
  g_autoptr (GMenu) menu = NULL;
  g_autofree char *when = NULL;

  g_return_val_if_fail (MSIM_IS_MAP_VIEW (self), FALSE);
  if (self->run == NULL)
    return FALSE;
  when = sim_time_to_string (self->time);
  switch (msim_map_view_pick (self, x, y, gtk_widget_get_width (GTK_WIDGET (self)),
                              gtk_widget_get_height (GTK_WIDGET (self)), &a, &b))
    {
    case MSIM_MAP_PICK_LINK:
      menu = build_link_menu (self, a, b, when);
      break;
    case MSIM_MAP_PICK_NODE:
      menu = build_node_menu (self, a, when);
      break;
    case MSIM_MAP_PICK_NONE:
    default:
      return FALSE;
    }
  gtk_popover_popdown (GTK_POPOVER (self->menu));
  gtk_popover_menu_set_menu_model (GTK_POPOVER_MENU (self->menu), G_MENU_MODEL (menu));
  gtk_popover_set_pointing_to (GTK_POPOVER (self->menu), &(GdkRectangle) { (int) x, (int) y, 1, 1 });
  gtk_popover_popup (GTK_POPOVER (self->menu));
  return TRUE;
}

GtkPopoverMenu *
msim_map_view_get_menu (MsimMapView *self)
{
  return GTK_POPOVER_MENU (self->menu);
}

static void
on_secondary_click (GtkGestureClick *gesture, int n_press, double x, double y, gpointer user_data)
{
  MsimMapView *self = MSIM_MAP_VIEW (user_data);

  if (msim_map_view_popup_menu_at (self, x, y))
    gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
msim_map_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  MsimMapView *self = MSIM_MAP_VIEW (widget);

  /* A popover parented to a widget is placed by that widget. */
  if (self->menu != NULL)
    gtk_popover_present (GTK_POPOVER (self->menu));
}

static void
msim_map_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  msim_map_view_draw (MSIM_MAP_VIEW (widget), cr, width, height, FALSE);
  cairo_destroy (cr);
}

static void
msim_map_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                       int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  MsimMapView *self = MSIM_MAP_VIEW (widget);
  double em = measure_em (self);
  guint cells = 1;

  if (self->layout != NULL)
    cells = orientation == GTK_ORIENTATION_HORIZONTAL ? msim_map_layout_get_n_columns (self->layout)
                                                      : msim_map_layout_get_n_rows (self->layout);
  /* A cell holds an icon and two lines of labels, or a node name across. */
  *minimum = (int) (MAX (cells, 1) * em * (orientation == GTK_ORIENTATION_HORIZONTAL ? 5 : 4));
  *natural = (int) (*minimum * 1.6);
}

static void
msim_map_view_dispose (GObject *object)
{
  MsimMapView *self = MSIM_MAP_VIEW (object);

  g_clear_pointer (&self->menu, gtk_widget_unparent);
  g_clear_pointer (&self->layout, msim_map_layout_free);
  g_clear_pointer (&self->run, msim_run_unref);
  G_OBJECT_CLASS (msim_map_view_parent_class)->dispose (object);
}

static void
msim_map_view_class_init (MsimMapViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = msim_map_view_dispose;
  widget_class->snapshot = msim_map_view_snapshot;
  widget_class->measure = msim_map_view_measure;
  widget_class->size_allocate = msim_map_view_size_allocate;
  gtk_widget_class_set_css_name (widget_class, "mapview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
msim_map_view_init (MsimMapView *self)
{
  GtkGesture *click = gtk_gesture_click_new ();

  self->current_event = -1;
  self->menu = gtk_popover_menu_new_from_model (NULL);
  gtk_widget_set_parent (self->menu, GTK_WIDGET (self));
  gtk_popover_set_position (GTK_POPOVER (self->menu), GTK_POS_BOTTOM);
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect (click, "pressed", G_CALLBACK (on_secondary_click), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_add_css_class (GTK_WIDGET (self), "view");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Network map: the nodes of the scenario and the messages travelling between them; "
                                  "right-click a node or a link to change what happens",
                                  -1);
}

GtkWidget *
msim_map_view_new (void)
{
  return g_object_new (MSIM_TYPE_MAP_VIEW, NULL);
}

void
msim_map_view_set_run (MsimMapView *self, MsimRun *run)
{
  g_return_if_fail (MSIM_IS_MAP_VIEW (self));
  g_clear_pointer (&self->layout, msim_map_layout_free);
  g_clear_pointer (&self->run, msim_run_unref);
  if (run != NULL)
    {
      self->run = msim_run_ref (run);
      self->layout = msim_map_layout_new (msim_run_get_world (run), msim_run_get_sender (run));
    }
  self->time = 0;
  self->current_event = -1;
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
msim_map_view_set_time (MsimMapView *self, SimTime time)
{
  g_return_if_fail (MSIM_IS_MAP_VIEW (self));
  if (self->time == time)
    return;
  self->time = time;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
msim_map_view_set_current_event (MsimMapView *self, gint index)
{
  g_return_if_fail (MSIM_IS_MAP_VIEW (self));
  if (self->current_event == index)
    return;
  self->current_event = index;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
