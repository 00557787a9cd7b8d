/* diagram.c: sequence diagrams of a run. */
#include "diagram.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <string.h>

#include "trace/sim-narration.h"

#define MARGIN 24.0
#define TIME_COLUMN 70.0
#define NODE_WIDTH 150.0
#define HEADER 56.0
#define ROW 17.0
#define FONT_SIZE 9.0
#define LABEL_CHARACTERS 44

typedef struct
{
  const SimEvent *event;
  char *label;
} Row;

static gboolean
shown (const SimEvent *event, const DiagramOptions *options)
{
  if (event->time < options->from || event->time > options->to)
    return FALSE;
  if (options->only != NULL && !g_str_equal (event->protocol, options->only))
    return FALSE;
  switch (event->kind)
    {
    case SIM_EVENT_DATA:
    case SIM_EVENT_DATAGRAM:
    case SIM_EVENT_REFUSED:
    case SIM_EVENT_UNREACHABLE:
    case SIM_EVENT_LOST:
    case SIM_EVENT_CONNECT:
    case SIM_EVENT_MAIL:
    case SIM_EVENT_ACTION:
      return event->from != NULL && event->from[0] != '\0';
    default:
      return FALSE;
    }
}

static gint
column_of (GPtrArray *columns, const char *name)
{
  for (guint i = 0; i < columns->len; i++)
    if (g_str_equal (g_ptr_array_index (columns, i), name))
      return (gint) i;
  return -1;
}

static char *
shorten (const char *text)
{
  glong length = g_utf8_strlen (text, -1);

  if (length <= LABEL_CHARACTERS)
    return g_strdup (text);
  g_autofree char *start = g_utf8_substring (text, 0, LABEL_CHARACTERS - 1);
  return g_strconcat (start, "…", NULL);
}

static void
draw_arrow_head (cairo_t *cr, double x, double y, double direction)
{
  cairo_move_to (cr, x, y);
  cairo_line_to (cr, x - direction * 6, y - 3);
  cairo_line_to (cr, x - direction * 6, y + 3);
  cairo_close_path (cr);
  cairo_fill (cr);
}

gboolean
diagram_write (SimWorld *world, const DiagramOptions *options, const char *path, GError **error)
{
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
  g_autoptr (GPtrArray) columns = g_ptr_array_new ();
  g_autoptr (GArray) rows = g_array_new (FALSE, FALSE, sizeof (Row));
  cairo_surface_t *surface;
  cairo_t *cr;
  gboolean png = g_str_has_suffix (path, ".png");
  gboolean pdf = g_str_has_suffix (path, ".pdf");

  if (!png && !pdf && !g_str_has_suffix (path, ".svg"))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: the diagram is written as .svg, .pdf or .png", path);
      return FALSE;
    }
  /* Columns in the order nodes first appear: the story reads left to right. */
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = g_ptr_array_index (events, i);
      if (!shown (event, options))
        continue;
      if (column_of (columns, event->from) < 0)
        g_ptr_array_add (columns, (gpointer) event->from);
      if (event->to != NULL && event->to[0] != '\0' && column_of (columns, event->to) < 0)
        g_ptr_array_add (columns, (gpointer) event->to);
      g_autoptr (GPtrArray) lines = sim_event_describe (event);
      for (guint l = 0; l < MAX (lines->len, 1u) && l < 4; l++)
        {
          const char *line = l < lines->len ? g_ptr_array_index (lines, l) : "";
          Row row = { event, shorten (line) };
          if (l == 3 && lines->len > 4)
            {
              g_free (row.label);
              row.label = g_strdup_printf ("… %u more lines", lines->len - 3);
            }
          g_array_append_val (rows, row);
          /* Messages and notes take one line; protocol text up to four. */
          if (event->kind != SIM_EVENT_DATA)
            break;
        }
    }
  if (rows->len == 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "nothing to draw between those times");
      return FALSE;
    }
  /* Half a column more on the right, for the notes of the last node. */
  double width = MARGIN * 2 + TIME_COLUMN + NODE_WIDTH * (columns->len + 0.8);
  double height = MARGIN * 2 + HEADER + ROW * (rows->len + 1);
  if (png)
    surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) width * 2, (int) height * 2);
  else if (pdf)
    surface = cairo_pdf_surface_create (path, width, height);
  else
    surface = cairo_svg_surface_create (path, width, height);
  cr = cairo_create (surface);
  if (png)
    cairo_scale (cr, 2, 2);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  /* Title and column heads. */
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_font_size (cr, FONT_SIZE * 1.4);
  cairo_move_to (cr, MARGIN, MARGIN + 12);
  cairo_show_text (cr, options->title != NULL ? options->title : "mailsim");
  cairo_set_font_size (cr, FONT_SIZE);
  double top = MARGIN + HEADER;
  double bottom = top + ROW * (rows->len + 0.5);
  for (guint c = 0; c < columns->len; c++)
    {
      double x = MARGIN + TIME_COLUMN + NODE_WIDTH * (c + 0.5);
      const char *name = g_ptr_array_index (columns, c);
      cairo_text_extents_t extents;
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_text_extents (cr, name, &extents);
      cairo_move_to (cr, x - extents.width / 2, top - 10);
      cairo_show_text (cr, name);
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
      cairo_set_source_rgb (cr, 0.75, 0.75, 0.75);
      cairo_set_line_width (cr, 1);
      cairo_move_to (cr, x, top - 4);
      cairo_line_to (cr, x, bottom);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0, 0, 0);
    }

  /* One row per line: time, arrow or note, label. */
  const SimEvent *previous = NULL;
  for (guint r = 0; r < rows->len; r++)
    {
      Row *row = &g_array_index (rows, Row, r);
      const SimEvent *event = row->event;
      double y = top + ROW * (r + 1);
      gint from = column_of (columns, event->from);
      gint to = event->to != NULL && event->to[0] != '\0' ? column_of (columns, event->to) : -1;
      double x_from = MARGIN + TIME_COLUMN + NODE_WIDTH * (from + 0.5);
      double x_to = to >= 0 ? MARGIN + TIME_COLUMN + NODE_WIDTH * (to + 0.5) : x_from;
      gboolean first_line = event != previous;
      gboolean failure = event->kind == SIM_EVENT_REFUSED || event->kind == SIM_EVENT_UNREACHABLE
                         || event->kind == SIM_EVENT_LOST || g_strcmp0 (event->status, "bounced") == 0
                         || g_strcmp0 (event->status, "deferred") == 0;
      previous = event;

      if (first_line)
        {
          char clock[32];
          cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
          cairo_move_to (cr, MARGIN, y);
          cairo_show_text (cr, g_strchug ((sim_time_format_clock (event->time, clock), clock)));
        }
      cairo_set_source_rgb (cr, 0, 0, 0);
      if (to >= 0 && to != from && first_line && event->kind != SIM_EVENT_MAIL && event->kind != SIM_EVENT_ACTION)
        {
          double direction = x_to > x_from ? 1 : -1;
          /* Replies and server lines dashed, client lines solid. */
          static const double dash[] = { 4, 3 };
          cairo_set_dash (cr, dash, event->kind == SIM_EVENT_DATA && !event->from_client ? 2 : 0, 0);
          cairo_set_line_width (cr, failure ? 1.6 : 1);
          cairo_move_to (cr, x_from, y - 3);
          cairo_line_to (cr, x_to - direction * 6, y - 3);
          cairo_stroke (cr);
          cairo_set_dash (cr, NULL, 0, 0);
          draw_arrow_head (cr, x_to, y - 3, direction);
        }
      /* The label sits beside the arrow's start, on the side away from it. */
      cairo_text_extents_t extents;
      g_autofree char *label = failure && first_line ? g_strconcat ("✗ ", row->label, NULL) : g_strdup (row->label);
      cairo_text_extents (cr, label, &extents);
      double x_label = (to >= 0 && x_to < x_from) ? x_to + 8 : x_from + 8;
      if (to < 0 || to == from || event->kind == SIM_EVENT_MAIL || event->kind == SIM_EVENT_ACTION)
        {
          cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_ITALIC, CAIRO_FONT_WEIGHT_NORMAL);
          x_label = x_from + 6;
        }
      cairo_move_to (cr, x_label, y - 6);
      cairo_show_text (cr, label);
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    }

  cairo_destroy (cr);
  gboolean ok = TRUE;
  if (png && cairo_surface_write_to_png (surface, path) != CAIRO_STATUS_SUCCESS)
    ok = FALSE;
  cairo_surface_finish (surface);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    ok = FALSE;
  cairo_surface_destroy (surface);
  for (guint r = 0; r < rows->len; r++)
    g_free (g_array_index (rows, Row, r).label);
  if (!ok)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: could not be written", path);
  return ok;
}
