<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>TrendView</name>
    <message>
      <source>A trend shows at most %1 pens; remove one first.</source>
      <translation>一个趋势图最多显示 %1 条曲线，请先移除一条。</translation>
    </message>
    <message>
      <source>The end of the range must be after its start.</source>
      <translation>结束时间必须晚于开始时间。</translation>
    </message>
    <message>
      <source>1 h</source>
      <translation>1小时</translation>
    </message>
    <message>
      <source>8 h</source>
      <translation>8小时</translation>
    </message>
    <message>
      <source>24 h</source>
      <translation>24小时</translation>
    </message>
    <message>
      <source>7 d</source>
      <translation>7天</translation>
    </message>
    <message>
      <source>30 d</source>
      <translation>30天</translation>
    </message>
    <message>
      <source>Show the last %1 and follow the present</source>
      <translation>显示最近%1并跟随当前时间</translation>
    </message>
    <message>
      <source>Live</source>
      <translation>实时</translation>
    </message>
    <message>
      <source>Follow the present; zooming or panning the chart stops following</source>
      <translation>跟随当前时间；缩放或平移曲线即停止跟随</translation>
    </message>
    <message>
      <source>From</source>
      <translation>从</translation>
    </message>
    <message>
      <source>To</source>
      <translation>至</translation>
    </message>
    <message>
      <source>Show range</source>
      <translation>显示时段</translation>
    </message>
    <message>
      <source>Export CSV…</source>
      <translation>导出CSV…</translation>
    </message>
    <message>
      <source>Export PNG…</source>
      <translation>导出图片…</translation>
    </message>
    <message>
      <source>Filter points</source>
      <translation>筛选测点</translation>
    </message>
    <message>
      <source>Point</source>
      <translation>测点</translation>
    </message>
    <message>
      <source>Unit</source>
      <translation>单位</translation>
    </message>
    <message>
      <source>Loading history…</source>
      <translation>正在读取历史数据…</translation>
    </message>
    <message>
      <source>History of %1 could not be read: %2</source>
      <translation>无法读取 %1 的历史数据：%2</translation>
    </message>
    <message>
      <source>Export trend data</source>
      <translation>导出趋势数据</translation>
    </message>
    <message>
      <source>CSV files (*.csv)</source>
      <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
      <source>Export failed: %1</source>
      <translation>导出失败：%1</translation>
    </message>
    <message>
      <source>%1 rows written to %2</source>
      <translation>已写入 %1 行至 %2</translation>
    </message>
    <message>
      <source>Export trend image</source>
      <translation>导出趋势图片</translation>
    </message>
    <message>
      <source>PNG images (*.png)</source>
      <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
      <source>Image saved to %1</source>
      <translation>图片已保存至 %1</translation>
    </message>
  </context>
  <context>
    <name>TrendPlot</name>
    <message>
      <source> (not good quality)</source>
      <translation>（质量不良）</translation>
    </message>
    <message>
      <source>Point at the chart to read every pen's value at that time</source>
      <translation>将鼠标移到曲线上，读取各曲线在该时刻的数值</translation>
    </message>
    <message>
      <source>left</source>
      <translation>左轴</translation>
    </message>
    <message>
      <source>right</source>
      <translation>右轴</translation>
    </message>
    <message>
      <source>right %1</source>
      <translation>右轴%1</translation>
    </message>
    <message>
      <source>no data</source>
      <translation>无数据</translation>
    </message>
    <message>
      <source>good</source>
      <translation>正常</translation>
    </message>
    <message>
      <source>? uncertain</source>
      <translation>? 可疑</translation>
    </message>
    <message>
      <source>? bad</source>
      <translation>? 无效</translation>
    </message>
    <message>
      <source>The latest value of this pen is not good: do not rely on it</source>
      <translation>该曲线的最新值质量不良，不可作为依据</translation>
    </message>
    <message>
      <source>Pen</source>
      <translation>曲线</translation>
    </message>
    <message>
      <source>Description</source>
      <translation>描述</translation>
    </message>
    <message>
      <source>Unit (axis)</source>
      <translation>单位（坐标轴）</translation>
    </message>
    <message>
      <source>Latest value</source>
      <translation>最新值</translation>
    </message>
    <message>
      <source>Time</source>
      <translation>时间</translation>
    </message>
    <message>
      <source>Quality</source>
      <translation>质量</translation>
    </message>
  </context>
</TS>
